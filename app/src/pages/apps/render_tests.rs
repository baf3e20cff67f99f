//! What the server renders for an answer: the test hooks the browser tests rely on, and the words.

use super::*;
use crate::dto::{LiveState, SecretRef};

/// Renders one answer as the server would, inside a router at `/apps`.
fn render(list: AppsPage, query: &str) -> String {
    use leptos_router::components::Router;
    use leptos_router::location::RequestUrl;
    let owner = Owner::new();
    owner.set();
    provide_context(RequestUrl::new("/apps"));
    let query = query.to_string();
    view! {
        <Router>
            <Results list query go=|_: &str, _: u32, _: bool| () />
        </Router>
    }
    .to_html()
}

fn summary(name: &str, live: LiveState, workloads: u32, up: u32) -> ClusterAppSummary {
    ClusterAppSummary {
        namespace: "dev".into(),
        name: name.into(),
        secret: SecretRef::new("dev", format!("{name}/config")),
        live,
        workloads,
        workloads_up_to_date: up,
    }
}

fn answer(items: Vec<ClusterAppSummary>, page: u32, has_more: bool) -> AppsPage {
    AppsPage {
        configured: true,
        problem: None,
        items,
        page,
        has_more,
    }
}

#[test]
fn each_app_is_a_row_with_its_hooks_its_editor_link_and_its_words() {
    let html = render(
        answer(
            vec![
                summary(
                    "webapp",
                    LiveState::Live {
                        version: 7,
                        since: 0,
                    },
                    3,
                    2,
                ),
                summary(
                    "worker",
                    LiveState::Pending {
                        cluster_version: Some(6),
                        vault_version: 7,
                        written: 0,
                        next_refresh_due: None,
                    },
                    0,
                    0,
                ),
            ],
            0,
            true,
        ),
        "",
    );
    assert!(html.contains(r#"data-testid="apps-table""#), "{html}");
    assert_eq!(html.matches(r#"data-testid="apps-row""#).count(), 2);
    assert!(
        html.contains(r#"data-app="dev/webapp" data-live-state="live""#),
        "{html}"
    );
    assert!(
        html.contains(r#"data-app="dev/worker" data-live-state="pending""#),
        "{html}"
    );
    assert!(
        html.contains(r#"href="/secrets/dev/webapp/config""#),
        "{html}"
    );
    assert!(html.contains("version 7"));
    assert!(html.contains("cluster has 6, Vault has 7"));
    assert!(html.contains("2 of 3 up to date"));
    assert!(html.contains("—"));
    assert!(html.contains("Page 1"));
    // Previous is disabled on the first page; Next is not while more apps follow.
    let previous = html.find("Previous").unwrap();
    let next = html.find("Next").unwrap();
    assert!(html[..previous]
        .rfind("<button")
        .is_some_and(|b| html[b..previous].contains("disabled")));
    assert!(!html[..next]
        .rfind("<button")
        .is_some_and(|b| html[b..next].contains("disabled")));
}

#[test]
fn empty_answers_say_why() {
    let none = render(answer(vec![], 0, false), "");
    assert!(
        none.contains("No app in the cluster uses a secret you can read."),
        "{none}"
    );
    assert!(!none.contains("apps-table") && !none.contains("Next"));
    let no_match = render(answer(vec![], 0, false), "pay");
    assert!(no_match.contains("No app matches “pay”."), "{no_match}");
    let mut off = answer(vec![], 0, false);
    off.configured = false;
    assert!(render(off, "").contains("This Keyway is not connected to a cluster."));
    let mut unreachable = answer(vec![], 0, false);
    unreachable.problem = Some("unreachable".into());
    let html = render(unreachable, "");
    assert!(
        html.contains("The cluster cannot be reached right now; what you see may be out of date.")
    );
    assert!(
        !html.contains("apps-empty"),
        "an empty list proves nothing then: {html}"
    );
}

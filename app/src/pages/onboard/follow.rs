//! After an apply: the page asks every few seconds where the new app stands in the cluster, until
//! it is live, and then links to its secret page, where its developers edit it.

use leptos::prelude::*;

use crate::api::onboard::follow_onboarding;
use crate::components::ui::Badge;
use crate::dto::{ClusterSide, LiveState, OnboardFollow, SecretRef};
use crate::links::secret_href;
use crate::pages::secret::cluster::format::{live_badge, live_line};
use crate::pages::secret::cluster::poll::now;

/// How often the page asks, in seconds.
const EVERY_SECS: u64 = 2;

#[component]
pub fn Follow(
    environment: String,
    app: String,
    secret: SecretRef,
    side: ClusterSide,
) -> impl IntoView {
    let seen = RwSignal::new(None::<OnboardFollow>);
    let live = move || {
        seen.get()
            .and_then(|f| f.app)
            .is_some_and(|a| matches!(a.live, LiveState::Live { .. }))
    };
    // Browser only (effects do not run in the server render); stops once live, or with the page.
    let (env, name) = (environment.clone(), app.clone());
    Effect::new(move |_| {
        let ask = {
            let (env, name) = (env.clone(), name.clone());
            move || {
                if live() {
                    return;
                }
                let (env, name) = (env.clone(), name.clone());
                leptos::task::spawn_local(async move {
                    if let Ok(f) = follow_onboarding(env, name, true).await {
                        seen.set(Some(f));
                    }
                });
            }
        };
        ask();
        let timer = set_interval_with_handle(ask, std::time::Duration::from_secs(EVERY_SECS)).ok();
        on_cleanup(move || {
            if let Some(t) = timer {
                t.clear();
            }
        });
    });
    let waiting = match side {
        ClusterSide::Keyway => format!("Waiting for the operator to copy the secret of {app}…"),
        ClusterSide::GitOps => format!(
            "Waiting for {app}'s objects to appear in {environment}: commit the folder to your GitOps repository; Keyway looks every few seconds."
        ),
    };
    let href = secret_href(&secret);
    view! {
        <section class="mt-6 card" aria-labelledby="onboard-follow-title" data-testid="onboard-follow" aria-live="polite">
            <h2 id="onboard-follow-title" class="font-semibold">"In the cluster"</h2>
            {move || {
                let f = seen.get();
                let problem = f.as_ref().and_then(|f| f.problem.clone());
                let state = match f.and_then(|f| f.app) {
                    None => view! { <p class="mt-2 text-sm text-slate-600" data-testid="onboard-waiting">{waiting.clone()}</p> }.into_any(),
                    Some(a) => {
                        let (text, tone) = live_badge(&a.live);
                        view! {
                            <p class="mt-2 flex flex-wrap items-baseline gap-2 text-sm" data-testid="onboard-live" data-state=text>
                                <Badge text=text tone=tone />
                                <span>{live_line(&a.live, now())}</span>
                            </p>
                        }.into_any()
                    }
                };
                view! { {state} {problem.map(|p| view! { <p class="mt-1 text-sm text-amber-700">{p}</p> })} }
            }}
            <Show when=live>
                <p class="mt-3 text-sm">
                    "The app is live. Its developers find it on their list; "
                    <a href=href.clone() class="font-medium text-indigo-700 hover:underline" data-testid="onboard-open-secret">"open its secret"</a>
                    "."
                </p>
            </Show>
        </section>
    }
}

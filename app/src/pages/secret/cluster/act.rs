//! What the cluster panel's buttons do: one request at a time per app (while one runs every
//! button of the app is disabled and the clicked one shows a spinner; its text stays, so it keeps
//! its name for screen readers), and what the last one answered.

use leptos::prelude::*;
use leptos::task::spawn_local;

use super::Panel;
use crate::api::cluster::{restart, sync_now};
use crate::dto::{AppRef, SecretRef, WorkloadRef};
use crate::error::AppError;

/// What a button asks the server for.
#[derive(Debug, Clone)]
pub enum Request {
    SyncNow,
    /// `workload` None: every workload of the app.
    Restart {
        workload: Option<WorkloadRef>,
        sync_first: bool,
    },
}

/// Sends one request for the app, unless one is already running.
#[derive(Clone, Copy)]
pub struct Act {
    panel: Panel,
    namespace: StoredValue<String>,
    name: StoredValue<String>,
    /// Which button's request is running (None = none).
    pub busy: RwSignal<Option<String>>,
    /// What the last request answered.
    outcome: RwSignal<Option<Result<String, AppError>>>,
}

impl Act {
    /// No request running yet for the app `namespace`/`name`.
    pub fn new(panel: Panel, namespace: String, name: String) -> Self {
        Act {
            panel,
            namespace: StoredValue::new(namespace),
            name: StoredValue::new(name),
            busy: RwSignal::new(None),
            outcome: RwSignal::new(None),
        }
    }

    /// What the last request answered.
    pub fn outcome(&self) -> Option<Result<String, AppError>> {
        self.outcome.get()
    }

    /// The panel's clock.
    pub fn now(&self) -> RwSignal<i64> {
        self.panel.poll.now
    }

    pub fn run(self, button: String, request: Request) {
        if self.busy.get_untracked().is_some() {
            return;
        }
        self.busy.set(Some(button));
        self.outcome.set(None);
        let page = self.panel.page;
        let poll = self.panel.poll;
        let secret = SecretRef::new(page.env.get_untracked(), page.app.get_untracked());
        let app = AppRef::new(self.namespace.get_value(), self.name.get_value());
        spawn_local(async move {
            let answer = match request {
                Request::SyncNow => sync_now(secret, app).await,
                Request::Restart {
                    workload,
                    sync_first,
                } => restart(secret, app, workload, sync_first).await,
            };
            self.busy.set(None);
            // One confirmation on screen at a time.
            page.notice.set(None);
            self.outcome.set(Some(answer.map(|done| done.message)));
            poll.hurry();
        });
    }
}

/// A button of the panel: disabled while any request of the app runs or when refused, with a
/// spinner on the one that runs.
#[component]
pub fn ActionButton(
    act: Act,
    /// Which button this is, to show the spinner on the one clicked.
    #[prop(into)]
    button: String,
    label: &'static str,
    #[prop(optional)] primary: bool,
    #[prop(optional_no_strip)] refusal: Option<String>,
    on_click: impl Fn() + Send + Sync + 'static,
) -> impl IntoView {
    let refused = refusal.is_some();
    let busy = act.busy;
    let button = StoredValue::new(button);
    let mine = move || busy.with(|b| button.with_value(|me| b.as_ref() == Some(me)));
    let class = if primary {
        "btn-primary"
    } else {
        "btn-secondary"
    };
    view! {
        <button type="button" class=class title=refusal disabled=move || refused || busy.with(Option::is_some)
            aria-busy=move || if mine() { "true" } else { "false" }
            on:click=move |_| on_click()>
            {label}
            {move || mine().then(|| view! {
                <span aria-hidden="true"
                    class="ml-2 inline-block h-3 w-3 animate-spin rounded-full border-2 border-current border-t-transparent"></span>
            })}
        </button>
    }
    .into_any()
}

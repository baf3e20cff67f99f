//! What the cluster panel's buttons do: one request at a time per app (while one runs every
//! button of the app is disabled and the clicked one shows a spinner; its text stays, so it keeps
//! its name for screen readers), and what the last one answered.

use leptos::prelude::*;

use super::Panel;
use crate::api::cluster::{restart, sync_now};
use crate::dto::{AppRef, WorkloadRef};
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

/// Sends one request for the app, unless one is already running (a Leptos action: its input
/// says which button's request runs, its value what the last one answered).
#[derive(Clone, Copy)]
pub struct Act {
    action: Action<(String, Request), Result<String, AppError>>,
    /// A request is running (the action's `pending`, made once).
    pending: Memo<bool>,
    /// The panel's clock.
    now: RwSignal<i64>,
}

impl Act {
    /// No request running yet for the app `namespace`/`name`.
    pub fn new(panel: Panel, namespace: String, name: String) -> Self {
        let app = StoredValue::new(AppRef::new(namespace, name));
        let action = Action::new(move |(_, request): &(String, Request)| {
            let request = request.clone();
            let page = panel.page;
            let secret = page.secret_untracked();
            let app = app.get_value();
            async move {
                let answer = match request {
                    Request::SyncNow => sync_now(secret, app).await,
                    Request::Restart {
                        workload,
                        sync_first,
                    } => restart(secret, app, workload, sync_first).await,
                };
                // One confirmation on screen at a time.
                page.notice.set(None);
                panel.poll.hurry();
                answer.map(|done| done.message)
            }
        });
        Act {
            action,
            pending: action.pending(),
            now: panel.poll.now,
        }
    }

    /// The panel's clock.
    pub fn now(&self) -> RwSignal<i64> {
        self.now
    }

    /// What the last request answered; nothing while one runs.
    pub fn outcome(&self) -> Option<Result<String, AppError>> {
        if self.pending.get() {
            return None;
        }
        self.action.value().get()
    }

    /// Which button's request is running, if one is.
    pub fn running(&self) -> Option<String> {
        self.action
            .input()
            .with(|i| i.as_ref().map(|(button, _)| button.clone()))
    }

    pub fn run(self, button: String, request: Request) {
        if !self.pending.get_untracked() {
            self.action.dispatch((button, request));
        }
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
    let button = StoredValue::new(button);
    let mine = move || button.with_value(|me| act.running().as_ref() == Some(me));
    let class = if primary {
        "btn-primary"
    } else {
        "btn-secondary"
    };
    view! {
        <button type="button" class=class title=refusal disabled=move || refused || act.running().is_some()
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

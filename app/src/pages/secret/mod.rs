//! One secret: keys with masked values, reveal and copy, export, the draft editor, the version
//! history and the timeline (each version's way into the cluster); on the Keys view, whether it
//! is live in the cluster.

// The apps overview shares the panel's wording and clock.
pub(crate) mod cluster;
mod draft;
mod hide;
mod history;
mod keys;
mod timeline;

use leptos::prelude::*;
use leptos_router::{
    components::{Redirect, A},
    hooks::use_params_map,
};

use crate::api::secrets::secret as api_secret;
use crate::components::ui::{Badge, ErrorBox, Notice, Tone};
use crate::dto::{SecretRef, SecretView};
use crate::error::AppError;
use crate::pages::on_first_open;
use leptos_router::{lazy_route, LazyRoute};

/// `2026-11-28T13:06:12.123Z` → `2026-11-28 13:06:12 UTC`.
pub(crate) fn short_time(t: &str) -> String {
    let t = t.split('.').next().unwrap_or(t).trim_end_matches('Z');
    format!("{} UTC", t.replacen('T', " ", 1))
}

/// What the page is showing.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Tab {
    Keys,
    Edit,
    History,
    Timeline,
}

/// Signals the parts of the page share.
#[derive(Clone, Copy)]
pub struct PageCtx {
    /// The secret the page shows, from the URL.
    pub secret: Memo<SecretRef>,
    /// Bumped to reload the secret after a change.
    pub reload: RwSignal<u32>,
    pub tab: RwSignal<Tab>,
    pub notice: RwSignal<Option<String>>,
    pub error: RwSignal<Option<AppError>>,
}

impl PageCtx {
    /// Shows a confirmation and reloads everything from Vault.
    pub fn done(&self, text: String) {
        self.error.set(None);
        self.notice.set(Some(text));
        self.tab.set(Tab::Keys);
        self.reload.update(|n| *n += 1);
    }

    pub fn fail(&self, e: AppError) {
        self.notice.set(None);
        self.error.set(Some(e));
    }

    /// The secret this page shows, read without tracking (for a request).
    pub fn secret_untracked(&self) -> SecretRef {
        self.secret.get_untracked()
    }
}

/// The route (see `App`): the page's code is a wasm chunk of its own.
pub struct SecretRoute;

#[lazy_route]
impl LazyRoute for SecretRoute {
    fn data() -> Self {
        SecretRoute
    }

    fn view(_this: Self) -> AnyView {
        view! { <SecretPage /> }.into_any()
    }
}

/// The page frame: breadcrumbs, tabs, notices and the tab shown. Long because it is one view
/// tree around the secret's resource.
#[component]
fn SecretPage() -> impl IntoView {
    let params = use_params_map();
    let secret = Memo::new(move |_| {
        params.with(|p| {
            SecretRef::new(
                p.get("mount").unwrap_or_default(),
                p.get("path").unwrap_or_default(),
            )
        })
    });
    let mount = move || secret.with(|s| s.mount.clone());
    let path = move || secret.with(|s| s.path.clone());
    let ctx = PageCtx {
        secret,
        reload: RwSignal::new(0),
        tab: RwSignal::new(Tab::Keys),
        notice: RwSignal::new(None),
        error: RwSignal::new(None),
    };
    let view_res = Resource::new(
        move || (secret.get(), ctx.reload.get()),
        |(s, _)| api_secret(s),
    );
    let cluster_feed = cluster::Feed::new(ctx);
    let tab_class = move |t: Tab| {
        move || {
            let current = match ctx.tab.get() {
                Tab::Edit => Tab::Keys,
                other => other,
            };
            if current == t {
                "tab tab-active"
            } else {
                "tab"
            }
        }
    };
    view! {
        <nav class="text-sm text-slate-500">
            <A href="/" attr:class="hover:underline">"Secrets"</A>
            " / " {mount} " / "
            <span class="font-medium text-slate-800">{path}</span>
        </nav>
        <div class="mt-2 flex items-center justify-between">
            <h1 class="text-2xl font-semibold" data-testid="secret-title">{path}</h1>
            <div class="flex gap-2" role="tablist">
                <button type="button" role="tab" class=tab_class(Tab::Keys) on:click=move |_| ctx.tab.set(Tab::Keys)>"Keys"</button>
                <button type="button" role="tab" class=tab_class(Tab::History) on:click=move |_| ctx.tab.set(Tab::History) data-testid="tab-history">"History"</button>
                <button type="button" role="tab" class=tab_class(Tab::Timeline) on:click=move |_| ctx.tab.set(Tab::Timeline) data-testid="tab-timeline">"Timeline"</button>
            </div>
        </div>
        <div class="mt-3 space-y-2">
            {move || ctx.notice.get().map(|n| view! { <Notice text=n /> })}
            {move || ctx.error.get().map(|e| view! { <ErrorBox error=e /> })}
        </div>
        <Transition fallback=|| view! { <p class="mt-4 text-slate-500">"Loading…"</p> }>
            {move || {
                view_res
                    .get()
                    .map(|r| match r {
                        Err(AppError::Unauthenticated) => view! { <Redirect path=crate::links::LOGIN /> }.into_any(),
                        Err(e) => view! { <div class="mt-4"><ErrorBox error=e /></div> }.into_any(),
                        Ok(v) => {
                            let v = StoredValue::new(v);
                            view! {
                                <div class="mt-4 flex flex-wrap items-center gap-2 text-sm text-slate-600">
                                    {move || v.with_value(|v| if v.version == 0 {
                                        view! { <Badge text="not created yet" /> }.into_any()
                                    } else {
                                        view! { <span data-testid="version">"Version " {v.version}</span> }.into_any()
                                    })}
                                    {move || v.with_value(|v| v.deleted.then(|| view! { <Badge text="latest version deleted" tone=Tone::Bad /> }))}
                                    {move || v.with_value(|v| v.created_time.clone().map(|t| view! { <span>"saved " {short_time(&t)}</span> }))}
                                </div>
                                {move || match ctx.tab.get() {
                                    Tab::Keys => view! {
                                        <keys::KeysView ctx view=v.get_value() />
                                        <cluster::ClusterPanel ctx feed=cluster_feed />
                                    }
                                        .into_any(),
                                    Tab::Edit => on_first_open(editor(ctx, v.get_value())),
                                    Tab::History => on_first_open(history_tab(ctx, v.get_value())),
                                    Tab::Timeline => on_first_open(timeline_tab(ctx)),
                                }}
                            }
                                .into_any()
                        }
                    })
            }}
        </Transition>
    }
}

/// The draft editor, in a wasm chunk of its own.
#[lazy]
fn editor(ctx: PageCtx, view: SecretView) -> AnyView {
    view! { <draft::Editor ctx view /> }.into_any()
}

/// The history tab, in a wasm chunk of its own.
#[lazy]
fn history_tab(ctx: PageCtx, view: SecretView) -> AnyView {
    view! { <history::History ctx view /> }.into_any()
}

/// The timeline tab, in a wasm chunk of its own.
#[lazy]
fn timeline_tab(ctx: PageCtx) -> AnyView {
    view! { <timeline::Timeline ctx /> }.into_any()
}

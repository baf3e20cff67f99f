//! What an onboarding will create, in full (the steps, the policy HCL, the login role, every
//! file of the Kustomize folder with Copy and Download), the Apply button, and after it the
//! report of each step.

use leptos::prelude::*;

use crate::browser::{copy_to_clipboard, download, download_as};
use crate::components::ui::{Badge, ErrorBox, Tone};
use crate::dto::{ClusterSide, OnboardFile, OnboardForm, OnboardPreview, OnboardReport, StepState};
use crate::error::AppError;
use crate::logic::tar::ustar;

type Answer<T> = Option<Result<T, AppError>>;

#[component]
pub fn PreviewPanel(
    preview: Action<OnboardForm, Result<OnboardPreview, AppError>>,
    apply: Action<OnboardForm, Result<OnboardReport, AppError>>,
    form: Memo<OnboardForm>,
) -> impl IntoView {
    let shown = move || -> Answer<OnboardPreview> { preview.value().get() };
    view! {
        {move || shown().map(|r| match r {
            Err(e) => view! { <div class="mt-4" data-testid="onboard-preview-error"><ErrorBox error=e /></div> }.into_any(),
            Ok(p) => {
                let side = form.get_untracked().cluster_side;
                let app = form.get_untracked().app;
                view! {
                    <Preview preview=p side app=app.clone() />
                    <div class="mt-4 flex items-center gap-3">
                        <button type="button" class="btn-primary" data-testid="onboard-apply"
                            disabled=move || apply.pending().get()
                            on:click=move |_| { apply.dispatch(form.get_untracked()); }>
                            {move || if apply.pending().get() { "Applying…" } else if apply.value().get().is_some() { "Apply again" } else { "Apply" }}
                        </button>
                        <span class="text-sm text-slate-500">"Applying again is safe: what is already there is kept, and only what is missing is made."</span>
                    </div>
                    {move || apply.value().get().map(|r| match r {
                        Err(e) => view! { <div class="mt-4" data-testid="onboard-apply-error"><ErrorBox error=e /></div> }.into_any(),
                        Ok(report) => view! { <Report report=report.clone() /> {(!report.failed()).then(|| view! {
                            <super::follow::Follow environment=form.get_untracked().environment app=app.clone() secret=report.secret.clone() side />
                        })} }.into_any(),
                    })}
                }.into_any()
            }
        })}
    }
}

/// One file in full, with Copy and Download.
#[component]
fn FileBlock(file: OnboardFile, #[prop(into)] testid: String) -> impl IntoView {
    let copied = RwSignal::new(false);
    let (name, text) = (file.name.clone(), file.text.clone());
    let (t1, t2, n2) = (text.clone(), text.clone(), name.clone());
    view! {
        <figure class="mt-3" data-testid=testid data-file=name.clone()>
            <figcaption class="flex items-center gap-3 text-sm">
                <code class="font-medium">{name.clone()}</code>
                <button type="button" class="btn-link" on:click=move |_| {
                    let t = t1.clone();
                    leptos::task::spawn_local(async move { copied.set(copy_to_clipboard(&t).await); });
                }>{move || if copied.get() { "Copied" } else { "Copy" }}</button>
                {(!name.contains('/')).then(|| view! {
                    <button type="button" class="btn-link" on:click=move |_| download(&n2, &t2)>"Download"</button>
                })}
            </figcaption>
            <pre class="mt-1 overflow-x-auto rounded bg-slate-900 p-3 text-xs text-slate-100"><code>{text}</code></pre>
        </figure>
    }
}

#[component]
fn Preview(preview: OnboardPreview, side: ClusterSide, app: String) -> impl IntoView {
    let files: Vec<(String, String)> = preview
        .files
        .iter()
        .map(|f| (f.name.clone(), f.text.clone()))
        .collect();
    let folder = app.clone();
    let download_folder = move |_| {
        if let Some(archive) = ustar(&folder, &files) {
            download_as(&format!("{folder}.tar"), &archive, "application/x-tar");
        }
    };
    let keys = if preview.keys.is_empty() {
        "no keys (an empty secret, to fill in later)".to_owned()
    } else {
        format!("the keys {}", preview.keys.join(", "))
    };
    view! {
        <section class="mt-6 card" aria-labelledby="onboard-preview-title" data-testid="onboard-preview-panel">
            <h2 id="onboard-preview-title" class="font-semibold">"What applying does, in order"</h2>
            <ol class="mt-2 list-decimal pl-6 text-sm" data-testid="onboard-steps">
                {preview.steps.iter().map(|s| view! { <li>{s.clone()}</li> }).collect_view()}
            </ol>
            <p class="mt-2 text-sm text-slate-600">{format!(
                "The secret {}/{} gets {keys}, unless it exists already (then it is left as it is).",
                preview.secret.mount, preview.secret.path
            )}</p>
            <h3 class="mt-4 font-medium">"In Vault (written with your own token)"</h3>
            <FileBlock file=preview.policy.clone() testid="onboard-policy" />
            <FileBlock file=preview.role.clone() testid="onboard-role" />
            <h3 class="mt-4 font-medium">
                {match side {
                    ClusterSide::Keyway => "In the cluster (created by Keyway's own account)",
                    ClusterSide::GitOps => "In the cluster: commit this folder to your GitOps repository",
                }}
            </h3>
            {(side == ClusterSide::GitOps).then(|| view! {
                <p class="mt-1 text-sm">
                    <button type="button" class="btn-secondary" data-testid="onboard-download-folder" on:click=download_folder>
                        {format!("Download the folder ({app}.tar)")}
                    </button>
                </p>
            })}
            {preview.notes.iter().map(|n| view! { <p class="mt-2 text-sm text-amber-800" role="note">{n.clone()}</p> }).collect_view()}
            {preview.files.into_iter().map(|f| view! { <FileBlock file=f testid="onboard-file" /> }).collect_view()}
        </section>
    }
}

fn step_badge(state: &StepState) -> (&'static str, Tone, Option<String>) {
    match state {
        StepState::Done => ("Done", Tone::Good, None),
        StepState::AlreadyThere(why) => ("Already there", Tone::Neutral, Some(why.clone())),
        StepState::Failed(why) => ("Failed", Tone::Bad, Some(why.clone())),
        StepState::NotRun => ("Not run", Tone::Neutral, None),
        StepState::ByGitOps => ("In your GitOps repository", Tone::Warn, None),
    }
}

#[component]
fn Report(report: OnboardReport) -> impl IntoView {
    let failed = report.failed();
    view! {
        <section class="mt-6 card" aria-labelledby="onboard-report-title" data-testid="onboard-report">
            <h2 id="onboard-report-title" class="font-semibold">
                {if failed { "Onboarding stopped at a step" } else { "Onboarding applied" }}
            </h2>
            <ol class="mt-2 grid gap-2 text-sm">
                {report.steps.into_iter().map(|s| {
                    let (text, tone, why) = step_badge(&s.state);
                    view! {
                        <li class="flex flex-wrap items-baseline gap-2" data-testid="onboard-step" data-state=text>
                            <Badge text=text tone=tone />
                            <span>{s.label}</span>
                            {why.map(|w| view! { <span class="basis-full text-slate-600">{w}</span> })}
                        </li>
                    }
                }).collect_view()}
            </ol>
            {failed.then(|| view! {
                <p class="mt-3 text-sm text-slate-700" role="status">"Fix what the failed step says, then apply again: the steps already done are kept, and nothing is made twice."</p>
            })}
        </section>
    }
}

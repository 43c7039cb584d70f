//! The HTML of the connection pages. maud escapes every interpolated value, so what the vendor
//! (organization name, app name) or the end user (subdomain, source name) typed cannot become
//! markup. The pages work without JavaScript; the one script only hands the completion token
//! to an embedding window.

use std::collections::BTreeMap;

use atsbridge_model::tool::{GuideTexts, ToolDescriptor};
use maud::{html, Markup, DOCTYPE};

use super::texts::{fill, Lang, Names, Texts};

/// What the form shows again after a failed submission (never a secret field).
#[derive(Debug, Clone, Default)]
pub struct FormState {
    /// What was typed into each credential field that is not secret, by key.
    pub values: BTreeMap<&'static str, String>,
    pub source_name: String,
    /// A message about the whole submission (shown at the top, `role="alert"`).
    pub error: Option<String>,
    /// A message at each credential field that is wrong, by key.
    pub field_errors: BTreeMap<&'static str, String>,
    pub source_error: Option<String>,
}

impl FormState {
    /// Whether any field is wrong (the form then goes back without a check).
    pub fn has_field_errors(&self) -> bool {
        !self.field_errors.is_empty() || self.source_error.is_some()
    }
}

/// The context every page needs.
#[derive(Debug, Clone)]
pub struct PageContext<'a> {
    pub lang: Lang,
    pub app: &'a str,
    pub organization: &'a str,
    pub relink: bool,
    /// Whether the customer reaches the page over https (only then does it say the key
    /// travels encrypted).
    pub secure: bool,
    /// The tool being connected, and its guide in the page's language.
    pub tool: &'static ToolDescriptor,
    pub guide: &'static GuideTexts,
}

impl PageContext<'_> {
    pub fn t(&self) -> &'static Texts {
        self.lang.texts()
    }

    pub fn fill(&self, text: &str, host: &str) -> String {
        fill(
            text,
            &Names {
                app: self.app,
                org: self.organization,
                host,
                tool: self.tool.label,
            },
        )
    }
}

fn layout(lang: Lang, tool: Option<&ToolDescriptor>, title: &str, body: Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang=(lang.code()) {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                meta name="robots" content="noindex";
                title { (title) }
                link rel="stylesheet" href="/connect/assets/connect.css";
                script src="/connect/assets/connect.js" defer {}
            }
            body {
                main id="main" {
                    @if let Some(tool) = tool {
                        img class="logo" src=(format!("/assets/{}-logo.svg", tool.slug)) alt=(tool.label) width="160" height="48";
                    }
                    (body)
                }
            }
        }
    }
}

/// The guide and the form.
pub fn form(ctx: &PageContext<'_>, state: &FormState) -> Markup {
    let (t, guide) = (ctx.t(), ctx.guide);
    let title = ctx.fill(
        if ctx.relink {
            t.title_relink
        } else {
            t.title_connect
        },
        "",
    );
    let intro = if ctx.relink {
        guide.intro_relink
    } else {
        guide.intro_connect
    };
    let fields = ctx.tool.connect.fields.iter().zip(guide.fields);
    let messages: Vec<&String> = state
        .error
        .iter()
        .chain(
            ctx.tool
                .connect
                .fields
                .iter()
                .filter_map(|f| state.field_errors.get(f.key)),
        )
        .chain(state.source_error.iter())
        .collect();
    let body = html! {
        h1 { (title) }
        p { (ctx.fill(intro, "")) }
        @if !messages.is_empty() {
            div id="form-error" class="error-summary" role="alert" tabindex="-1" {
                h2 { (t.error_summary) }
                ul {
                    @for message in messages { li { (message) } }
                }
            }
        }
        section aria-labelledby="prerequisites" {
            h2 id="prerequisites" { (t.prerequisites) }
            ul {
                @for p in guide.prerequisites { li { (ctx.fill(p, "")) } }
            }
        }
        section aria-labelledby="create-credentials" {
            h2 id="create-credentials" { (guide.create_credentials) }
            ol {
                @for step in guide.steps { li { (ctx.fill(step, "")) } }
            }
            @if let Some(note) = guide.steps_note { p class="note" { (ctx.fill(note, "")) } }
        }
        @if let Some((heading, text)) = guide.find_account {
            section aria-labelledby="find-account" {
                h2 id="find-account" { (heading) }
                p { (ctx.fill(text, "")) }
            }
        }
        section aria-labelledby="credentials" {
            h2 id="credentials" { (t.form_heading) }
            form id="connect-form" method="post" autocomplete="off" novalidate {
                @for (field, words) in fields {
                    @let error = state.field_errors.get(field.key).map(String::as_str);
                    (field_label(field.key, words.label, None))
                    p class="hint" id=(format!("{}-hint", field.key)) { (ctx.fill(words.hint, "")) }
                    (field_error(field.key, error))
                    @if field.secret {
                        // Never pre-filled: a secret is not sent back to the browser, not even
                        // after a failed attempt.
                        input id=(field.key) name=(field.key) type="password" required value=""
                            autocomplete="off" spellcheck="false" maxlength=(field.max_len)
                            aria-describedby=(described_by(field.key, error.is_some()))
                            aria-invalid=[error.map(|_| "true")];
                    } @else {
                        @let input = html! {
                            input id=(field.key) name=(field.key) type="text" required
                                value=(state.values.get(field.key).map_or("", String::as_str))
                                spellcheck="false" autocapitalize="none" maxlength=(field.max_len)
                                aria-describedby=(described_by(field.key, error.is_some()))
                                aria-invalid=[error.map(|_| "true")];
                        };
                        @if let Some(suffix) = field.suffix {
                            div class="suffixed" {
                                (input)
                                span aria-hidden="true" { (suffix) }
                            }
                        } @else {
                            (input)
                        }
                    }
                }
                (field_label("source_name", t.source_label, Some(t.optional)))
                p class="hint" id="source_name-hint" { (ctx.fill(t.source_hint, "")) }
                (field_error("source_name", state.source_error.as_deref()))
                input id="source_name" name="source_name" type="text" value=(state.source_name)
                    maxlength="100"
                    aria-describedby=(described_by("source_name", state.source_error.is_some()))
                    aria-invalid=[state.source_error.as_ref().map(|_| "true")];
                button id="connect-submit" type="submit" { (t.submit) }
                p class="privacy" { (ctx.fill(if ctx.secure { guide.privacy } else { guide.privacy_plain }, "")) }
            }
        }
    };
    layout(ctx.lang, Some(ctx.tool), &title, body)
}

fn field_label(id: &str, label: &str, optional: Option<&str>) -> Markup {
    html! {
        label for=(id) {
            (label)
            @if let Some(optional) = optional { " " span class="optional" { "(" (optional) ")" } }
        }
    }
}

fn field_error(id: &str, message: Option<&str>) -> Markup {
    html! {
        @if let Some(message) = message {
            p class="field-error" id=(format!("{id}-error")) { (message) }
        }
    }
}

fn described_by(id: &str, has_error: bool) -> String {
    if has_error {
        format!("{id}-hint {id}-error")
    } else {
        format!("{id}-hint")
    }
}

/// The page after a successful connection. `token` is the completion token for
/// `GET /v1/connect/integration-by-token/{token}`; the script posts it to the embedding
/// window, but only to `origins`.
pub fn done(
    ctx: &PageContext<'_>,
    host: &str,
    token: &str,
    tool: &str,
    origins: &[String],
) -> Markup {
    let t = ctx.t();
    let text = if ctx.relink {
        t.done_relink
    } else {
        t.done_connect
    };
    let title = ctx.fill(t.done_title, host);
    let body = html! {
        div id="connect-done" data-token=(token) data-tool=(tool) data-origins=(origins.join(" ")) {
            h1 { (title) }
            p role="status" { (ctx.fill(text, host)) }
            p { (t.done_close) }
        }
    };
    layout(ctx.lang, Some(ctx.tool), &title, body)
}

/// A page that only says something: an invalid, expired, used or locked link, or an error.
/// `tool` is the link's tool, when there is a link.
pub fn message(lang: Lang, tool: Option<&ToolDescriptor>, title: &str, text: &str) -> Markup {
    let body = html! {
        div id="connect-message" {
            h1 { (title) }
            p { (text) }
        }
    };
    layout(lang, tool, title, body)
}

pub const CSS: &str = r#":root { color-scheme: light; --ink: #1a1a1a; --muted: #4d4d4d; --accent: #006b2d; --error: #b00020; }
* { box-sizing: border-box; }
body { margin: 0; font: 16px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, Helvetica, Arial, sans-serif; color: var(--ink); background: #f6f7f6; }
main { max-width: 40rem; margin: 2rem auto; padding: 2rem; background: #fff; border-radius: 8px; box-shadow: 0 1px 3px rgba(0,0,0,.12); }
.logo { display: block; margin-bottom: 1rem; }
h1 { font-size: 1.6rem; margin: 0 0 .5rem; }
h2 { font-size: 1.15rem; margin: 1.5rem 0 .5rem; }
.note { border-left: 4px solid #c98a00; padding: .5rem .75rem; background: #fff8e6; }
label { display: block; font-weight: 600; margin-top: 1.25rem; }
.optional { font-weight: 400; color: var(--muted); }
.hint { margin: .25rem 0; color: var(--muted); font-size: .95rem; }
input { width: 100%; padding: .6rem .7rem; font: inherit; border: 1px solid #767676; border-radius: 4px; }
input[aria-invalid="true"] { border: 2px solid var(--error); }
.suffixed { display: flex; align-items: center; gap: .4rem; }
.suffixed span { color: var(--muted); }
:focus-visible { outline: 3px solid #1565c0; outline-offset: 2px; }
button { margin-top: 1.5rem; padding: .7rem 1.6rem; font: inherit; font-weight: 600; color: #fff; background: var(--accent); border: 0; border-radius: 4px; cursor: pointer; }
button[disabled] { opacity: .7; cursor: progress; }
.privacy { color: var(--muted); font-size: .9rem; }
.error-summary { border: 2px solid var(--error); border-radius: 4px; padding: .5rem 1rem; margin: 1rem 0; }
.error-summary h2 { margin-top: .25rem; color: var(--error); }
.field-error { color: var(--error); font-weight: 600; margin: .25rem 0; }
"#;

/// Posts the completion token to the window that embeds or opened the page, for each origin
/// the operator allowed (never to `*`); disables the button while the form is checked.
pub const JS: &str = r#""use strict";
document.addEventListener("DOMContentLoaded", function () {
  var summary = document.getElementById("form-error");
  if (summary) { summary.focus(); }
  var form = document.getElementById("connect-form");
  if (form) {
    form.addEventListener("submit", function () {
      var button = document.getElementById("connect-submit");
      if (button) { button.disabled = true; button.setAttribute("aria-busy", "true"); }
    });
  }
  var done = document.getElementById("connect-done");
  if (!done) { return; }
  var message = {
    type: "atsbridge-connect:success",
    token: done.getAttribute("data-token"),
    integration_tool: done.getAttribute("data-tool")
  };
  var origins = (done.getAttribute("data-origins") || "").split(" ").filter(Boolean);
  var targets = [];
  if (window.parent && window.parent !== window) { targets.push(window.parent); }
  if (window.opener) { targets.push(window.opener); }
  targets.forEach(function (target) {
    origins.forEach(function (origin) {
      try { target.postMessage(message, origin); } catch (e) { /* another origin */ }
    });
  });
});
"#;

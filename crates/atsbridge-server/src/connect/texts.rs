//! The words of the connection pages, in English and German. Languages Kombo accepts that
//! have no translation here (fr, it, es) are shown in English.

/// A page language.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lang {
    En,
    De,
}

impl Lang {
    /// The language of a stored link (`en`, `de`, `fr`, …).
    pub fn for_code(code: &str) -> Lang {
        match code {
            "de" => Lang::De,
            _ => Lang::En,
        }
    }

    pub fn code(self) -> &'static str {
        match self {
            Lang::En => "en",
            Lang::De => "de",
        }
    }

    pub fn texts(self) -> &'static Texts {
        match self {
            Lang::En => &EN,
            Lang::De => &DE,
        }
    }
}

/// The pages' own sentences, the same for every tool; what a tool asks for and how to find
/// it is the tool's `GuideTexts`. `{app}`, `{org}`, `{host}` and `{tool}` are replaced before
/// the text is escaped into the page.
#[derive(Debug)]
pub struct Texts {
    pub title_connect: &'static str,
    pub title_relink: &'static str,
    pub app_fallback: &'static str,
    pub prerequisites: &'static str,
    pub form_heading: &'static str,
    pub source_label: &'static str,
    pub source_hint: &'static str,
    pub optional: &'static str,
    pub submit: &'static str,
    pub error_summary: &'static str,
    pub err_source_long: &'static str,
    pub err_unreachable: &'static str,
    pub done_title: &'static str,
    pub done_connect: &'static str,
    pub done_relink: &'static str,
    pub done_close: &'static str,
    pub invalid_title: &'static str,
    pub invalid_body: &'static str,
    pub expired_title: &'static str,
    pub expired_body: &'static str,
    pub used_title: &'static str,
    pub used_body: &'static str,
    pub locked_title: &'static str,
    pub locked_body: &'static str,
    pub cross_site_title: &'static str,
    pub cross_site_body: &'static str,
    pub too_large_title: &'static str,
    pub too_large_body: &'static str,
    pub failed_title: &'static str,
    pub failed_body: &'static str,
}

pub static EN: Texts = Texts {
    title_connect: "Connect your {tool} account",
    title_relink: "Reconnect your {tool} account",
    app_fallback: "this application",
    prerequisites: "Before you start",
    form_heading: "Enter your credentials",
    source_label: "Source name for new candidates",
    source_hint: "Candidates that {app} sends to {tool} are marked with this source, so you can see where they came from.",
    optional: "optional",
    submit: "Connect",
    error_summary: "The connection did not work",
    err_source_long: "Use at most 100 characters for the source name.",
    err_unreachable: "{tool} could not be reached just now. Please try again in a minute.",
    done_title: "{tool} is connected",
    done_connect: "Thank you. {app} is now connected to the {tool} account at {host} and is importing your data.",
    done_relink: "Thank you. The new credentials work and {app} resumes syncing the {tool} account at {host}.",
    done_close: "You can close this window.",
    invalid_title: "This link is not valid",
    invalid_body: "Check that you opened the whole link, or ask for a new one.",
    expired_title: "This link has expired",
    expired_body: "Ask for a new link to connect your {tool} account.",
    used_title: "This link was already used",
    used_body: "{tool} was connected with this link. To connect again, ask for a new link.",
    locked_title: "Too many attempts",
    locked_body: "This link was used for too many unsuccessful attempts and is now locked. Ask for a new link.",
    cross_site_title: "The form was sent from another site",
    cross_site_body: "For your security the form only accepts submissions from this page. Open the link again and submit the form there.",
    too_large_title: "The form is too large",
    too_large_body: "The form accepts at most 16 KB: your credentials and a source name. Open the link again and submit the form there.",
    failed_title: "Something went wrong",
    failed_body: "The connection could not be saved. Please try again in a minute.",
};

pub static DE: Texts = Texts {
    title_connect: "{tool}-Konto verbinden",
    title_relink: "{tool}-Konto neu verbinden",
    app_fallback: "diese Anwendung",
    prerequisites: "Voraussetzungen",
    form_heading: "Zugangsdaten eingeben",
    source_label: "Quelle für neue Kandidaten",
    source_hint: "Kandidaten, die {app} an {tool} sendet, werden mit dieser Quelle gekennzeichnet, damit Sie sehen, woher sie kommen.",
    optional: "optional",
    submit: "Verbinden",
    error_summary: "Die Verbindung hat nicht funktioniert",
    err_source_long: "Die Quelle darf höchstens 100 Zeichen lang sein.",
    err_unreachable: "{tool} ist gerade nicht erreichbar. Bitte versuchen Sie es in einer Minute noch einmal.",
    done_title: "{tool} ist verbunden",
    done_connect: "Vielen Dank. {app} ist jetzt mit dem {tool}-Konto unter {host} verbunden und importiert Ihre Daten.",
    done_relink: "Vielen Dank. Die neuen Zugangsdaten funktionieren, und {app} synchronisiert das {tool}-Konto unter {host} wieder.",
    done_close: "Sie können dieses Fenster schließen.",
    invalid_title: "Dieser Link ist ungültig",
    invalid_body: "Prüfen Sie, ob Sie den ganzen Link geöffnet haben, oder fordern Sie einen neuen an.",
    expired_title: "Dieser Link ist abgelaufen",
    expired_body: "Fordern Sie einen neuen Link an, um Ihr {tool}-Konto zu verbinden.",
    used_title: "Dieser Link wurde bereits verwendet",
    used_body: "Mit diesem Link wurde {tool} bereits verbunden. Für eine neue Verbindung fordern Sie einen neuen Link an.",
    locked_title: "Zu viele Versuche",
    locked_body: "Mit diesem Link gab es zu viele erfolglose Versuche; er ist jetzt gesperrt. Fordern Sie einen neuen Link an.",
    cross_site_title: "Das Formular wurde von einer anderen Website gesendet",
    cross_site_body: "Zu Ihrer Sicherheit nimmt das Formular nur Eingaben von dieser Seite an. Öffnen Sie den Link erneut und senden Sie das Formular dort ab.",
    too_large_title: "Das Formular ist zu groß",
    too_large_body: "Das Formular nimmt höchstens 16 KB an: Ihre Zugangsdaten und eine Quelle. Öffnen Sie den Link erneut und senden Sie das Formular dort ab.",
    failed_title: "Etwas ist schiefgegangen",
    failed_body: "Die Verbindung konnte nicht gespeichert werden. Bitte versuchen Sie es in einer Minute noch einmal.",
};

/// The names filled into a text.
#[derive(Debug, Clone, Copy, Default)]
pub struct Names<'a> {
    pub app: &'a str,
    pub org: &'a str,
    pub host: &'a str,
    /// The tool's label.
    pub tool: &'a str,
}

/// Fills `{app}`, `{org}`, `{host}` and `{tool}` into a text. The result is plain text,
/// escaped when it is put into the page.
pub fn fill(text: &str, names: &Names<'_>) -> String {
    // One pass over the template: names come from vendors and customers, and a name like
    // `{host}` must appear as typed, not be filled in again.
    let values = [
        ("{app}", names.app),
        ("{org}", names.org),
        ("{host}", names.host),
        ("{tool}", names.tool),
    ];
    let mut filled =
        String::with_capacity(text.len() + values.iter().map(|(_, v)| v.len()).sum::<usize>());
    let mut rest = text;
    while let Some(at) = rest.find('{') {
        filled.push_str(&rest[..at]);
        let tail = &rest[at..];
        match values.iter().find(|(name, _)| tail.starts_with(name)) {
            Some((name, value)) => {
                filled.push_str(value);
                rest = &tail[name.len()..];
            }
            None => {
                filled.push('{');
                rest = &tail[1..];
            }
        }
    }
    filled.push_str(rest);
    // A name filled in at the start of a sentence ("this application asks …") starts it
    // with a capital.
    let mut chars = filled.chars();
    match chars.next() {
        Some(first) if first.is_lowercase() => first.to_uppercase().chain(chars).collect(),
        _ => filled,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names<'a>(app: &'a str, org: &'a str, host: &'a str, tool: &'a str) -> Names<'a> {
        Names {
            app,
            org,
            host,
            tool,
        }
    }

    #[test]
    fn names_are_filled_in_and_sentences_start_with_a_capital() {
        let text = fill(
            EN.source_hint,
            &names(EN.app_fallback, "Globex", "", "Sage HR"),
        );
        assert!(
            text.starts_with("Candidates that this application sends to Sage HR are marked"),
            "{text}"
        );
        let text = fill(
            DE.title_connect,
            &names("Acme Jobs", "Globex", "", "Sage HR"),
        );
        assert_eq!(text, "Sage HR-Konto verbinden");
        let text = fill("{app} asks", &names(EN.app_fallback, "", "", ""));
        assert_eq!(text, "This application asks");
    }

    #[test]
    fn filled_in_names_are_never_filled_in_again() {
        assert_eq!(
            fill(
                "{app} / {org} / {host} / {tool}",
                &names("A{org}", "{host}{app}", "h{tool}", "{app}")
            ),
            "A{org} / {host}{app} / h{tool} / {app}"
        );
        assert_eq!(
            fill("{org}{", &names("x", "{", "y", "")),
            "{{",
            "a lone brace stays"
        );
        assert_eq!(fill("{nope} {app}", &names("Ä", "", "", "")), "{nope} Ä");
    }
}

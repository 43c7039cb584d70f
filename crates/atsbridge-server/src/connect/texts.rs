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

/// Every sentence of the pages. `{app}`, `{org}` and `{host}` are replaced before the text is
/// escaped into the page.
#[derive(Debug)]
pub struct Texts {
    pub title_connect: &'static str,
    pub title_relink: &'static str,
    pub intro_connect: &'static str,
    pub intro_relink: &'static str,
    pub app_fallback: &'static str,
    pub prerequisites: &'static str,
    pub prereq_admin: &'static str,
    pub prereq_plan: &'static str,
    pub create_credentials: &'static str,
    pub steps: [&'static str; 5],
    pub reenable_warning: &'static str,
    pub subdomain_heading: &'static str,
    pub subdomain_help: &'static str,
    pub form_heading: &'static str,
    pub subdomain_label: &'static str,
    pub subdomain_hint: &'static str,
    pub api_key_label: &'static str,
    pub api_key_hint: &'static str,
    pub source_label: &'static str,
    pub source_hint: &'static str,
    pub optional: &'static str,
    pub submit: &'static str,
    /// Said only when the page is served over https.
    pub privacy: &'static str,
    pub privacy_plain: &'static str,
    pub error_summary: &'static str,
    pub err_subdomain_missing: &'static str,
    pub err_subdomain_format: &'static str,
    pub err_subdomain_other_account: &'static str,
    pub err_key_missing: &'static str,
    pub err_key_format: &'static str,
    pub err_source_long: &'static str,
    pub err_key_rejected: &'static str,
    pub err_account_unknown: &'static str,
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
    title_connect: "Connect your Sage HR account",
    title_relink: "Reconnect your Sage HR account",
    intro_connect: "{app} asks to connect the Sage HR account of {org}. Once connected, {app} can read your jobs, candidates and applications, and send you new applicants.",
    intro_relink: "{app} can no longer reach the Sage HR account of {org}, usually because its API key changed. Enter a current API key to resume syncing.",
    app_fallback: "this application",
    prerequisites: "Before you start",
    prereq_admin: "You need a Sage HR user with Admin rights. Only admins can turn on API access, and a key stops working if its user loses admin rights.",
    prereq_plan: "API access must be available on your Sage HR plan. If you do not see “API” under Settings → Integrations, ask your Sage HR account owner or Sage HR support to enable it.",
    create_credentials: "Create an API key",
    steps: [
        "Sign in to Sage HR as an admin.",
        "Open the user menu: click your name in the top right corner, then choose Settings.",
        "Go to Integrations, then API.",
        "Click “Enable API access” if it is not enabled yet.",
        "Copy the API key shown there.",
    ],
    reenable_warning: "If API access is already enabled, copy the existing key. Disabling and enabling API access again creates new keys for all users: every other integration that uses an old key stops working until it gets the new one.",
    subdomain_heading: "Find your subdomain",
    subdomain_help: "Your subdomain is the first part of the address you use to sign in to Sage HR: for https://acme.sage.hr it is “acme”.",
    form_heading: "Enter your credentials",
    subdomain_label: "Subdomain",
    subdomain_hint: "For example “acme” if you sign in at acme.sage.hr.",
    api_key_label: "API key",
    api_key_hint: "The key from Settings → Integrations → API.",
    source_label: "Source name for new candidates",
    source_hint: "Candidates that {app} sends to Sage HR are marked with this source, so you can see where they came from.",
    optional: "optional",
    submit: "Connect",
    privacy: "Your API key is sent over an encrypted connection, checked with Sage HR and stored encrypted. It is never shown again.",
    privacy_plain: "Your API key is checked with Sage HR and stored encrypted. It is never shown again.",
    error_summary: "The connection did not work",
    err_subdomain_missing: "Enter your Sage HR subdomain.",
    err_subdomain_format: "A subdomain has only letters, digits and hyphens, like “acme” in acme.sage.hr.",
    err_subdomain_other_account: "This link reconnects the Sage HR account at {host}. Enter the subdomain and an API key of that account.",
    err_key_missing: "Enter the API key.",
    err_key_format: "This does not look like a Sage HR API key. Copy it again from Settings → Integrations → API.",
    err_source_long: "Use at most 100 characters for the source name.",
    err_key_rejected: "Sage HR did not accept this API key for {host}. Check that you copied the whole key, that its user is still an admin, and that API access was not disabled and enabled again since (that creates new keys).",
    err_account_unknown: "There is no Sage HR account at {host}. Check the subdomain in the address you use to sign in.",
    err_unreachable: "Sage HR could not be reached just now. Please try again in a minute.",
    done_title: "Sage HR is connected",
    done_connect: "Thank you. {app} is now connected to the Sage HR account at {host} and is importing your data.",
    done_relink: "Thank you. The new API key works and {app} resumes syncing the Sage HR account at {host}.",
    done_close: "You can close this window.",
    invalid_title: "This link is not valid",
    invalid_body: "Check that you opened the whole link, or ask for a new one.",
    expired_title: "This link has expired",
    expired_body: "Ask for a new link to connect your Sage HR account.",
    used_title: "This link was already used",
    used_body: "Sage HR was connected with this link. To connect again, ask for a new link.",
    locked_title: "Too many attempts",
    locked_body: "This link was used for too many unsuccessful attempts and is now locked. Ask for a new link.",
    cross_site_title: "The form was sent from another site",
    cross_site_body: "For your security the form only accepts submissions from this page. Open the link again and submit the form there.",
    too_large_title: "The form is too large",
    too_large_body: "The form accepts at most 16 KB: a subdomain, an API key and a source name. Open the link again and submit the form there.",
    failed_title: "Something went wrong",
    failed_body: "The connection could not be saved. Please try again in a minute.",
};

pub static DE: Texts = Texts {
    title_connect: "Sage HR-Konto verbinden",
    title_relink: "Sage HR-Konto neu verbinden",
    intro_connect: "{app} möchte das Sage HR-Konto von {org} verbinden. Danach kann {app} Ihre Stellen, Kandidaten und Bewerbungen lesen und Ihnen neue Bewerber senden.",
    intro_relink: "{app} erreicht das Sage HR-Konto von {org} nicht mehr, meist weil sich der API-Schlüssel geändert hat. Geben Sie einen aktuellen API-Schlüssel ein, damit die Synchronisierung weiterläuft.",
    app_fallback: "diese Anwendung",
    prerequisites: "Voraussetzungen",
    prereq_admin: "Sie brauchen einen Sage HR-Benutzer mit Administratorrechten. Nur Administratoren können den API-Zugang aktivieren, und ein Schlüssel funktioniert nicht mehr, wenn sein Benutzer die Administratorrechte verliert.",
    prereq_plan: "Ihr Sage HR-Tarif muss den API-Zugang enthalten. Wenn Sie unter Einstellungen → Integrationen keinen Eintrag „API“ sehen, bitten Sie den Inhaber Ihres Sage HR-Kontos oder den Sage HR-Support, ihn freizuschalten.",
    create_credentials: "API-Schlüssel erstellen",
    steps: [
        "Melden Sie sich als Administrator bei Sage HR an.",
        "Öffnen Sie das Benutzermenü: Klicken Sie oben rechts auf Ihren Namen und wählen Sie Einstellungen.",
        "Öffnen Sie Integrationen und dann API.",
        "Klicken Sie auf „API-Zugang aktivieren“, falls er noch nicht aktiviert ist.",
        "Kopieren Sie den angezeigten API-Schlüssel.",
    ],
    reenable_warning: "Ist der API-Zugang bereits aktiviert, kopieren Sie den vorhandenen Schlüssel. Wird der API-Zugang deaktiviert und wieder aktiviert, entstehen neue Schlüssel für alle Benutzer: Jede andere Integration mit einem alten Schlüssel funktioniert dann erst wieder, wenn sie den neuen erhält.",
    subdomain_heading: "Ihre Subdomain finden",
    subdomain_help: "Die Subdomain ist der erste Teil der Adresse, unter der Sie sich bei Sage HR anmelden: bei https://acme.sage.hr ist es „acme“.",
    form_heading: "Zugangsdaten eingeben",
    subdomain_label: "Subdomain",
    subdomain_hint: "Zum Beispiel „acme“, wenn Sie sich unter acme.sage.hr anmelden.",
    api_key_label: "API-Schlüssel",
    api_key_hint: "Der Schlüssel aus Einstellungen → Integrationen → API.",
    source_label: "Quelle für neue Kandidaten",
    source_hint: "Kandidaten, die {app} an Sage HR sendet, werden mit dieser Quelle gekennzeichnet, damit Sie sehen, woher sie kommen.",
    optional: "optional",
    submit: "Verbinden",
    privacy: "Ihr API-Schlüssel wird verschlüsselt übertragen, bei Sage HR geprüft und verschlüsselt gespeichert. Er wird nie wieder angezeigt.",
    privacy_plain: "Ihr API-Schlüssel wird bei Sage HR geprüft und verschlüsselt gespeichert. Er wird nie wieder angezeigt.",
    error_summary: "Die Verbindung hat nicht funktioniert",
    err_subdomain_missing: "Geben Sie Ihre Sage HR-Subdomain ein.",
    err_subdomain_format: "Eine Subdomain besteht nur aus Buchstaben, Ziffern und Bindestrichen, wie „acme“ in acme.sage.hr.",
    err_subdomain_other_account: "Dieser Link verbindet das Sage HR-Konto unter {host} neu. Geben Sie die Subdomain und einen API-Schlüssel dieses Kontos ein.",
    err_key_missing: "Geben Sie den API-Schlüssel ein.",
    err_key_format: "Das sieht nicht wie ein Sage HR-API-Schlüssel aus. Kopieren Sie ihn erneut unter Einstellungen → Integrationen → API.",
    err_source_long: "Die Quelle darf höchstens 100 Zeichen lang sein.",
    err_key_rejected: "Sage HR hat diesen API-Schlüssel für {host} nicht angenommen. Prüfen Sie, ob Sie den ganzen Schlüssel kopiert haben, ob sein Benutzer noch Administrator ist und ob der API-Zugang seitdem nicht deaktiviert und wieder aktiviert wurde (dabei entstehen neue Schlüssel).",
    err_account_unknown: "Unter {host} gibt es kein Sage HR-Konto. Prüfen Sie die Subdomain in der Adresse, unter der Sie sich anmelden.",
    err_unreachable: "Sage HR ist gerade nicht erreichbar. Bitte versuchen Sie es in einer Minute noch einmal.",
    done_title: "Sage HR ist verbunden",
    done_connect: "Vielen Dank. {app} ist jetzt mit dem Sage HR-Konto unter {host} verbunden und importiert Ihre Daten.",
    done_relink: "Vielen Dank. Der neue API-Schlüssel funktioniert, und {app} synchronisiert das Sage HR-Konto unter {host} wieder.",
    done_close: "Sie können dieses Fenster schließen.",
    invalid_title: "Dieser Link ist ungültig",
    invalid_body: "Prüfen Sie, ob Sie den ganzen Link geöffnet haben, oder fordern Sie einen neuen an.",
    expired_title: "Dieser Link ist abgelaufen",
    expired_body: "Fordern Sie einen neuen Link an, um Ihr Sage HR-Konto zu verbinden.",
    used_title: "Dieser Link wurde bereits verwendet",
    used_body: "Mit diesem Link wurde Sage HR bereits verbunden. Für eine neue Verbindung fordern Sie einen neuen Link an.",
    locked_title: "Zu viele Versuche",
    locked_body: "Mit diesem Link gab es zu viele erfolglose Versuche; er ist jetzt gesperrt. Fordern Sie einen neuen Link an.",
    cross_site_title: "Das Formular wurde von einer anderen Website gesendet",
    cross_site_body: "Zu Ihrer Sicherheit nimmt das Formular nur Eingaben von dieser Seite an. Öffnen Sie den Link erneut und senden Sie das Formular dort ab.",
    too_large_title: "Das Formular ist zu groß",
    too_large_body: "Das Formular nimmt höchstens 16 KB an: eine Subdomain, einen API-Schlüssel und eine Quelle. Öffnen Sie den Link erneut und senden Sie das Formular dort ab.",
    failed_title: "Etwas ist schiefgegangen",
    failed_body: "Die Verbindung konnte nicht gespeichert werden. Bitte versuchen Sie es in einer Minute noch einmal.",
};

/// Fills `{app}`, `{org}` and `{host}` into a text. The result is plain text, escaped when it
/// is put into the page.
pub fn fill(text: &str, app: &str, org: &str, host: &str) -> String {
    // One pass over the template: names come from vendors and customers, and a name like
    // `{host}` must appear as typed, not be filled in again.
    let values = [("{app}", app), ("{org}", org), ("{host}", host)];
    let mut filled = String::with_capacity(text.len() + app.len() + org.len() + host.len());
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

    #[test]
    fn names_are_filled_in_and_sentences_start_with_a_capital() {
        let text = fill(EN.intro_connect, EN.app_fallback, "Globex", "");
        assert!(text.starts_with("This application asks to connect the Sage HR account of Globex. Once connected, this application can"), "{text}");
        let text = fill(DE.intro_connect, "Acme Jobs", "Globex", "");
        assert!(
            text.starts_with("Acme Jobs möchte das Sage HR-Konto von Globex verbinden."),
            "{text}"
        );
    }

    #[test]
    fn filled_in_names_are_never_filled_in_again() {
        assert_eq!(
            fill("{app} / {org} / {host}", "A{org}", "{host}{app}", "h{app}"),
            "A{org} / {host}{app} / h{app}"
        );
        assert_eq!(fill("{org}{", "x", "{", "y"), "{{", "a lone brace stays");
        assert_eq!(fill("{nope} {app}", "Ä", "", ""), "{nope} Ä");
    }
}

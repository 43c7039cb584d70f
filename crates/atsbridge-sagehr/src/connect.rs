//! How a customer connects Sage HR on the hosted page: the subdomain and API key it asks for,
//! how what people paste is read, and the guide to finding both, in English and German.

use atsbridge_model::tool::{ConnectGuide, CredentialField, FieldTexts, GuideTexts};

pub const GUIDE: ConnectGuide = ConnectGuide {
    fields: &[
        CredentialField {
            key: "subdomain",
            secret: false,
            max_len: 253,
            suffix: Some(".sage.hr"),
            normalize: normalize_subdomain,
            account_host: Some(account_host),
        },
        CredentialField {
            key: "api_key",
            secret: true,
            max_len: 512,
            suffix: None,
            normalize: normalize_api_key,
            account_host: None,
        },
    ],
    texts: &[EN, DE],
};

/// The subdomain of what the customer typed: `acme`, `acme.sage.hr` and
/// `https://acme.sage.hr/dashboard` all give `acme`. `None` if it is no DNS label.
pub fn normalize_subdomain(input: &str) -> Option<String> {
    let mut s = input.trim().to_ascii_lowercase();
    for prefix in ["https://", "http://"] {
        if let Some(rest) = s.strip_prefix(prefix) {
            s = rest.to_owned();
        }
    }
    if let Some(i) = s.find(['/', '?', '#']) {
        s.truncate(i);
    }
    if let Some(rest) = s.strip_suffix(".sage.hr") {
        s = rest.to_owned();
    }
    let ok = !s.is_empty()
        && s.len() <= 63
        && s.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        && !s.starts_with('-')
        && !s.ends_with('-');
    ok.then_some(s)
}

/// Sage HR's keys are opaque, so only what no key can hold is refused: whitespace inside,
/// control characters, or more than 512 bytes.
fn normalize_api_key(input: &str) -> Option<String> {
    let key = input.trim();
    let ok = !key.is_empty()
        && key.len() <= 512
        && !key.chars().any(|c| c.is_whitespace() || c.is_control());
    ok.then(|| key.to_owned())
}

/// The address the customer signs in at.
fn account_host(subdomain: &str) -> String {
    format!("{subdomain}.sage.hr")
}

pub(crate) const EN: GuideTexts = GuideTexts {
    lang: "en",
    intro_connect: "{app} asks to connect the Sage HR account of {org}. Once connected, {app} can read your jobs, candidates and applications, and send you new applicants.",
    intro_relink: "{app} can no longer reach the Sage HR account of {org}, usually because its API key changed. Enter a current API key to resume syncing.",
    prerequisites: &[
        "You need a Sage HR user with Admin rights. Only admins can turn on API access, and a key stops working if its user loses admin rights.",
        "API access must be available on your Sage HR plan. If you do not see “API” under Settings → Integrations, ask your Sage HR account owner or Sage HR support to enable it.",
    ],
    create_credentials: "Create an API key",
    steps: &[
        "Sign in to Sage HR as an admin.",
        "Open the user menu: click your name in the top right corner, then choose Settings.",
        "Go to Integrations, then API.",
        "Click “Enable API access” if it is not enabled yet.",
        "Copy the API key shown there.",
    ],
    steps_note: Some("If API access is already enabled, copy the existing key. Disabling and enabling API access again creates new keys for all users: every other integration that uses an old key stops working until it gets the new one."),
    find_account: Some((
        "Find your subdomain",
        "Your subdomain is the first part of the address you use to sign in to Sage HR: for https://acme.sage.hr it is “acme”.",
    )),
    fields: &[
        FieldTexts {
            label: "Subdomain",
            hint: "For example “acme” if you sign in at acme.sage.hr.",
            err_missing: "Enter your Sage HR subdomain.",
            err_format: "A subdomain has only letters, digits and hyphens, like “acme” in acme.sage.hr.",
        },
        FieldTexts {
            label: "API key",
            hint: "The key from Settings → Integrations → API.",
            err_missing: "Enter the API key.",
            err_format: "This does not look like a Sage HR API key. Copy it again from Settings → Integrations → API.",
        },
    ],
    privacy: "Your API key is sent over an encrypted connection, checked with Sage HR and stored encrypted. It is never shown again.",
    privacy_plain: "Your API key is checked with Sage HR and stored encrypted. It is never shown again.",
    err_other_account: "This link reconnects the Sage HR account at {host}. Enter the subdomain and an API key of that account.",
    err_rejected: "Sage HR did not accept this API key for {host}. Check that you copied the whole key, that its user is still an admin, and that API access was not disabled and enabled again since (that creates new keys).",
    err_account_unknown: "There is no Sage HR account at {host}. Check the subdomain in the address you use to sign in.",
};

pub(crate) const DE: GuideTexts = GuideTexts {
    lang: "de",
    intro_connect: "{app} möchte das Sage HR-Konto von {org} verbinden. Danach kann {app} Ihre Stellen, Kandidaten und Bewerbungen lesen und Ihnen neue Bewerber senden.",
    intro_relink: "{app} erreicht das Sage HR-Konto von {org} nicht mehr, meist weil sich der API-Schlüssel geändert hat. Geben Sie einen aktuellen API-Schlüssel ein, damit die Synchronisierung weiterläuft.",
    prerequisites: &[
        "Sie brauchen einen Sage HR-Benutzer mit Administratorrechten. Nur Administratoren können den API-Zugang aktivieren, und ein Schlüssel funktioniert nicht mehr, wenn sein Benutzer die Administratorrechte verliert.",
        "Ihr Sage HR-Tarif muss den API-Zugang enthalten. Wenn Sie unter Einstellungen → Integrationen keinen Eintrag „API“ sehen, bitten Sie den Inhaber Ihres Sage HR-Kontos oder den Sage HR-Support, ihn freizuschalten.",
    ],
    create_credentials: "API-Schlüssel erstellen",
    steps: &[
        "Melden Sie sich als Administrator bei Sage HR an.",
        "Öffnen Sie das Benutzermenü: Klicken Sie oben rechts auf Ihren Namen und wählen Sie Einstellungen.",
        "Öffnen Sie Integrationen und dann API.",
        "Klicken Sie auf „API-Zugang aktivieren“, falls er noch nicht aktiviert ist.",
        "Kopieren Sie den angezeigten API-Schlüssel.",
    ],
    steps_note: Some("Ist der API-Zugang bereits aktiviert, kopieren Sie den vorhandenen Schlüssel. Wird der API-Zugang deaktiviert und wieder aktiviert, entstehen neue Schlüssel für alle Benutzer: Jede andere Integration mit einem alten Schlüssel funktioniert dann erst wieder, wenn sie den neuen erhält."),
    find_account: Some((
        "Ihre Subdomain finden",
        "Die Subdomain ist der erste Teil der Adresse, unter der Sie sich bei Sage HR anmelden: bei https://acme.sage.hr ist es „acme“.",
    )),
    fields: &[
        FieldTexts {
            label: "Subdomain",
            hint: "Zum Beispiel „acme“, wenn Sie sich unter acme.sage.hr anmelden.",
            err_missing: "Geben Sie Ihre Sage HR-Subdomain ein.",
            err_format: "Eine Subdomain besteht nur aus Buchstaben, Ziffern und Bindestrichen, wie „acme“ in acme.sage.hr.",
        },
        FieldTexts {
            label: "API-Schlüssel",
            hint: "Der Schlüssel aus Einstellungen → Integrationen → API.",
            err_missing: "Geben Sie den API-Schlüssel ein.",
            err_format: "Das sieht nicht wie ein Sage HR-API-Schlüssel aus. Kopieren Sie ihn erneut unter Einstellungen → Integrationen → API.",
        },
    ],
    privacy: "Ihr API-Schlüssel wird verschlüsselt übertragen, bei Sage HR geprüft und verschlüsselt gespeichert. Er wird nie wieder angezeigt.",
    privacy_plain: "Ihr API-Schlüssel wird bei Sage HR geprüft und verschlüsselt gespeichert. Er wird nie wieder angezeigt.",
    err_other_account: "Dieser Link verbindet das Sage HR-Konto unter {host} neu. Geben Sie die Subdomain und einen API-Schlüssel dieses Kontos ein.",
    err_rejected: "Sage HR hat diesen API-Schlüssel für {host} nicht angenommen. Prüfen Sie, ob Sie den ganzen Schlüssel kopiert haben, ob sein Benutzer noch Administrator ist und ob der API-Zugang seitdem nicht deaktiviert und wieder aktiviert wurde (dabei entstehen neue Schlüssel).",
    err_account_unknown: "Unter {host} gibt es kein Sage HR-Konto. Prüfen Sie die Subdomain in der Adresse, unter der Sie sich anmelden.",
};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subdomains_are_taken_from_what_people_paste() {
        for (input, want) in [
            ("acme", Some("acme")),
            ("  Acme ", Some("acme")),
            ("acme.sage.hr", Some("acme")),
            ("https://acme.sage.hr/dashboard?x=1", Some("acme")),
            ("http://my-firm-2.sage.hr", Some("my-firm-2")),
            ("", None),
            ("-acme", None),
            ("ac me", None),
            ("acme.example.com", None),
            ("<script>", None),
            ("acme.sage.hr/../evil", Some("acme")),
            ("evil.example/acme", None),
        ] {
            assert_eq!(normalize_subdomain(input).as_deref(), want, "{input:?}");
        }
    }

    #[test]
    fn api_keys_are_trimmed_and_refused_only_when_no_key_could_look_like_that() {
        assert_eq!(normalize_api_key("  abc123  ").as_deref(), Some("abc123"));
        for bad in ["a b", "a\u{7}b", &"k".repeat(513)] {
            assert_eq!(normalize_api_key(bad), None, "{bad:?}");
        }
        assert!(normalize_api_key(&"k".repeat(512)).is_some());
    }

    #[test]
    fn every_language_words_every_field() {
        for t in GUIDE.texts {
            assert_eq!(t.fields.len(), GUIDE.fields.len(), "{}", t.lang);
        }
        assert_eq!(GUIDE.texts("fr").lang, "en");
        assert_eq!(GUIDE.texts("de").lang, "de");
        assert_eq!(
            GUIDE
                .account_field()
                .map(|f| (f.account_host.unwrap())("acme")),
            Some("acme.sage.hr".to_owned())
        );
    }
}

//! An applicant's address, which Sage HR keeps as one free-text string, read into Kombo's
//! location parts where the string has the shape atsbridge writes (`street, zip city, state,
//! country`, parts left out when missing). `raw` always keeps the string as it is.
//!
//! Only an address ending in an ISO 3166 alpha-2 code (the form Kombo's create requires for
//! `country`) is split: anything else a recruiter typed ("London", "BD23 8UL") stays `raw`
//! only, because guessing which part of free text is the city would put wrong data in a
//! field that looks certain.

use atsbridge_model::common::Location;

/// ISO 3166-1 alpha-2, every assigned code.
const COUNTRIES: &str = "AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ BA BB BD BE BF BG BH BI \
BJ BL BM BN BO BQ BR BS BT BV BW BY BZ CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ \
DE DJ DK DM DO DZ EC EE EG EH ER ES ET FI FJ FK FM FO FR GA GB GD GE GF GG GH GI GL GM GN GP GQ \
GR GS GT GU GW GY HK HM HN HR HT HU ID IE IL IM IN IO IQ IR IS IT JE JM JO JP KE KG KH KI KM KN \
KP KR KW KY KZ LA LB LC LI LK LR LS LT LU LV LY MA MC MD ME MF MG MH MK ML MM MN MO MP MQ MR MS \
MT MU MV MW MX MY MZ NA NC NE NF NG NI NL NO NP NR NU NZ OM PA PE PF PG PH PK PL PM PN PR PS PT \
PW PY QA RE RO RS RU RW SA SB SC SD SE SG SH SI SJ SK SL SM SN SO SR SS ST SV SX SY SZ TC TD TF \
TG TH TJ TK TL TM TN TO TR TT TV TW TZ UA UG UM US UY UZ VA VC VE VG VI VN VU WF WS YE YT ZA ZM \
ZW";

fn is_country_code(s: &str) -> bool {
    s.len() == 2
        && s.bytes().all(|b| b.is_ascii_uppercase())
        && COUNTRIES.split_ascii_whitespace().any(|c| c == s)
}

pub fn read(address: &str) -> Location {
    let mut location = Location {
        raw: Some(address.to_owned()),
        ..Location::default()
    };
    let parts: Vec<&str> = address
        .split(',')
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .collect();
    let Some((&country, rest)) = parts.split_last() else {
        return location;
    };
    if rest.is_empty() || !is_country_code(country) {
        return location;
    }
    location.country = Some(country.to_owned());
    let (street, town, state) = match *rest {
        [town] => (None, town, None),
        [street, town] => (Some(street), town, None),
        [street, town, state] => (Some(street), town, Some(state)),
        // More parts than atsbridge writes: not its shape, so only the country is read.
        _ => return location,
    };
    location.street_1 = street.map(str::to_owned);
    location.state = state.map(str::to_owned);
    // Postcodes are the leading words with a digit in them ("10115", "BD23 8UL").
    let words: Vec<&str> = town.split_whitespace().collect();
    let zip_words = words
        .iter()
        .take_while(|w| w.bytes().any(|b| b.is_ascii_digit()))
        .count();
    if zip_words > 0 {
        location.zip_code = Some(words[..zip_words].join(" "));
    }
    if zip_words < words.len() {
        location.city = Some(words[zip_words..].join(" "));
    }
    location
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parts(address: &str) -> [Option<String>; 5] {
        let l = read(address);
        assert_eq!(l.raw.as_deref(), Some(address));
        [l.street_1, l.zip_code, l.city, l.state, l.country]
    }

    fn some(v: [&str; 5]) -> [Option<String>; 5] {
        v.map(|s| (!s.is_empty()).then(|| s.to_owned()))
    }

    #[test]
    fn the_written_shape_is_read_back_into_its_parts() {
        assert_eq!(parts("London, GB"), some(["", "", "London", "", "GB"]));
        assert_eq!(
            parts("Invalidenstr. 1, 10115 Berlin, DE"),
            some(["Invalidenstr. 1", "10115", "Berlin", "", "DE"])
        );
        assert_eq!(
            parts("1 Market St, 94105 San Francisco, California, US"),
            some(["1 Market St", "94105", "San Francisco", "California", "US"])
        );
        assert_eq!(
            parts("BD23 8UL Skipton, GB"),
            some(["", "BD23 8UL", "Skipton", "", "GB"])
        );
        assert_eq!(parts("10115, DE"), some(["", "10115", "", "", "DE"]));
    }

    #[test]
    fn free_text_stays_raw() {
        for address in [
            "BD23 8UL",
            "London",
            "London, United Kingdom",
            "Berlin, de",
            "Somewhere, XX",
            "a, b, c, d, GB",
            "",
            ", ,",
        ] {
            let l = read(address);
            assert_eq!(l.raw.as_deref(), Some(address));
            assert_eq!(
                (l.street_1, l.zip_code, l.city, l.state),
                (None, None, None, None),
                "{address}"
            );
            if address != "a, b, c, d, GB" {
                assert_eq!(l.country, None, "{address}");
            }
        }
        assert_eq!(read("a, b, c, d, GB").country.as_deref(), Some("GB"));
    }
}

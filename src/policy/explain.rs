//! The policy in plain words, in English or Dutch, for a privacy statement or a record of
//! processing (GDPR Art. 30(1)(f)).

use super::{InactivityWithoutData, NoProof, Policy};
use crate::normalize::date::DateOrder;

/// The language of the explanation and the report.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lang {
    En,
    Nl,
}

impl Lang {
    /// `--lang`, else `LANG` (`nl_NL.UTF-8` is Dutch), else English.
    pub fn resolve(flag: Option<&str>, env_lang: Option<&str>) -> Result<Lang, String> {
        match flag.map(str::trim) {
            Some("en") => Ok(Lang::En),
            Some("nl") => Ok(Lang::Nl),
            Some(other) => Err(format!(
                "--lang `{other}` is not a language; choose en or nl"
            )),
            None => Ok(match env_lang {
                Some(l) if l.to_ascii_lowercase().starts_with("nl") => Lang::Nl,
                _ => Lang::En,
            }),
        }
    }
}

fn years(days: u32, lang: Lang) -> String {
    if days.is_multiple_of(365) && days > 0 {
        let y = days / 365;
        match lang {
            Lang::En => format!("{days} days ({y} years)"),
            Lang::Nl => format!("{days} dagen ({y} jaar)"),
        }
    } else {
        match lang {
            Lang::En => format!("{days} days"),
            Lang::Nl => format!("{days} dagen"),
        }
    }
}

/// The policy as numbered plain sentences.
pub fn explain(p: &Policy, lang: Lang) -> String {
    let mut lines: Vec<String> = Vec::new();
    let cutoff = p.gdpr_cutoff.format("%Y-%m-%d").to_string();
    let sources = |s: &str| s.replace('|', ", ");
    match lang {
        Lang::En => {
            lines.push(format!(
                "How we keep our mailing list (listaudit policy, preset {}).",
                p.preset
            ));
            lines.push(format!(
                "We keep a subscriber for as long as they engage with our mails. Someone who has not opened{} or clicked a mail, ordered, or signed up again for {} is removed from the list.",
                if p.opens_count { "" } else { " (opens are not counted)" },
                years(p.inactive_days, lang)
            ));
            lines.push(format!(
                "{} days before that limit we send them one mail to ask whether they want to stay.",
                p.reengage_days
            ));
            lines.push(format!(
                "We keep proof of every consent: when it was given and how (the sign-up form, the IP address or the confirmation of a double opt-in).{}",
                if p.require_double_opt_in { " Only a confirmed double opt-in counts as full proof." } else { "" }
            ));
            lines.push(format!(
                "Subscribers who signed up before {cutoff}, or whose proof is incomplete, are asked once to confirm their subscription; whoever does not confirm within {} days is removed.",
                p.repermission_grace_days
            ));
            lines.push(match p.no_proof {
                NoProof::Delete => "Addresses without any proof of consent are removed; we do not e-mail them to ask, because such a mail is itself marketing.".to_string(),
                NoProof::Repermission => "Addresses without any proof of consent, except bought lists, are asked once to confirm; bought lists are removed.".to_string(),
            });
            lines.push(format!(
                "A sign-up that is not confirmed within {} days is removed.",
                p.pending_max_days
            ));
            lines.push(format!(
                "A purchase or a free download ({}) is no consent for newsletters: such customers receive service mail only.",
                sources(&p.purchase_sources)
            ));
            if p.soft_opt_in {
                lines.push("Customers may receive mail about our own similar products (soft opt-in): we state that they were offered an opt-out when they bought, and every mail carries one.".to_string());
            }
            lines.push(format!(
                "Bought or rented lists ({}) are never used; imported addresses ({}) count as incomplete proof unless the person confirmed by double opt-in.",
                sources(&p.bought_sources),
                sources(&p.import_sources)
            ));
            lines.push(format!(
                "When {} or more addresses share one sign-up second without IP or confirmation, we treat them as an import, not as sign-ups.",
                p.import_artifact_min
            ));
            lines.push("Whoever unsubscribes or bounces is removed and kept only as a hashed entry on a suppression list, so that the address is never imported again.".to_string());
            lines.push(match p.inactivity_without_data {
                InactivityWithoutData::NotAssessed => "Where an export holds no engagement data, inactivity is not judged and the audit report says so.".to_string(),
                InactivityWithoutData::ConsentDate => "Where an export holds no engagement data, inactivity is measured from the date of consent.".to_string(),
            });
            lines.push(format!(
                "Dates that could be read either way are read {}.",
                match p.date_order {
                    DateOrder::DayFirst => "day first",
                    DateOrder::MonthFirst => "month first",
                }
            ));
            lines.push("These rules are applied by a tool and are not legal advice.".to_string());
        }
        Lang::Nl => {
            lines.push(format!(
                "Zo houden wij onze mailinglijst bij (listaudit-beleid, preset {}).",
                p.preset
            ));
            lines.push(format!(
                "Wij bewaren een abonnee zolang die iets met onze mails doet. Wie {} geen mail heeft geopend{} of aangeklikt, niets heeft besteld en zich niet opnieuw heeft aangemeld, halen wij van de lijst.",
                years(p.inactive_days, lang),
                if p.opens_count { "" } else { " (openen telt niet mee)" }
            ));
            lines.push(format!(
                "{} dagen voor die grens sturen wij één mail met de vraag of iemand wil blijven.",
                p.reengage_days
            ));
            lines.push(format!(
                "Van elke toestemming bewaren wij het bewijs: wanneer die is gegeven en hoe (het aanmeldformulier, het IP-adres of de bevestiging van een dubbele opt-in).{}",
                if p.require_double_opt_in { " Alleen een bevestigde dubbele opt-in geldt als volledig bewijs." } else { "" }
            ));
            lines.push(format!(
                "Abonnees die zich vóór {cutoff} hebben aangemeld, of van wie het bewijs onvolledig is, vragen wij één keer hun aanmelding te bevestigen; wie dat niet binnen {} dagen doet, verwijderen wij.",
                p.repermission_grace_days
            ));
            lines.push(match p.no_proof {
                NoProof::Delete => "Adressen zonder enig bewijs van toestemming verwijderen wij; wij mailen ze niet om het te vragen, want zo'n mail is zelf al reclame.".to_string(),
                NoProof::Repermission => "Adressen zonder enig bewijs van toestemming, behalve gekochte bestanden, vragen wij één keer om bevestiging; gekochte bestanden verwijderen wij.".to_string(),
            });
            lines.push(format!(
                "Een aanmelding die niet binnen {} dagen is bevestigd, verwijderen wij.",
                p.pending_max_days
            ));
            lines.push(format!(
                "Een aankoop of een gratis download ({}) is geen toestemming voor nieuwsbrieven: zulke klanten krijgen alleen servicemail.",
                sources(&p.purchase_sources)
            ));
            if p.soft_opt_in {
                lines.push("Klanten kunnen mail krijgen over onze eigen, soortgelijke producten (soft opt-in): wij verklaren dat zij bij de aankoop konden afmelden, en elke mail bevat een afmeldlink.".to_string());
            }
            lines.push(format!(
                "Gekochte of gehuurde bestanden ({}) gebruiken wij nooit; geïmporteerde adressen ({}) gelden als onvolledig bewijs, tenzij de persoon met een dubbele opt-in heeft bevestigd.",
                sources(&p.bought_sources),
                sources(&p.import_sources)
            ));
            lines.push(format!(
                "Als {} of meer adressen dezelfde aanmeldseconde delen zonder IP-adres of bevestiging, zien wij dat als een import en niet als aanmeldingen.",
                p.import_artifact_min
            ));
            lines.push("Wie zich afmeldt of wiens adres niet meer werkt, verwijderen wij; alleen een versleutelde (gehashte) vermelding blijft op een blokkeerlijst, zodat het adres nooit opnieuw wordt geïmporteerd.".to_string());
            lines.push(match p.inactivity_without_data {
                InactivityWithoutData::NotAssessed => "Als een export geen gegevens over het gebruik van mails bevat, beoordelen wij inactiviteit niet en staat dat in het rapport.".to_string(),
                InactivityWithoutData::ConsentDate => "Als een export geen gegevens over het gebruik van mails bevat, rekenen wij inactiviteit vanaf de datum van toestemming.".to_string(),
            });
            lines.push(format!(
                "Datums die op twee manieren te lezen zijn, lezen wij {}.",
                match p.date_order {
                    DateOrder::DayFirst => "met de dag eerst",
                    DateOrder::MonthFirst => "met de maand eerst",
                }
            ));
            lines.push(
                "Deze regels worden door een programma toegepast en zijn geen juridisch advies."
                    .to_string(),
            );
        }
    }
    let mut out = String::new();
    for (i, line) in lines.iter().enumerate() {
        if i == 0 {
            out.push_str(line);
            out.push_str("\n\n");
        } else {
            out.push_str(&format!("{i}. {line}\n"));
        }
    }
    out
}

#!/usr/bin/env python3
"""Writes sample-data/ and sample-activity/: a small, realistic Dutch webshop newsletter export
and a Mailchimp audience export, in which every outcome and reason code occurs.

Deterministic (fixed seed); run from the repository root:  python3 scripts/make-sample-data.py
The audit's reference date for these files is 2026-12-01.
"""
import csv
import datetime as dt
import os
import random

R = random.Random(20261201)
AS_OF = dt.datetime(2026, 12, 1)
FIRST = ["Anna", "Bram", "Chantal", "Daan", "Eva", "Femke", "Gijs", "Hanna", "Ilse", "Jeroen",
         "Kim", "Lars", "Mila", "Noah", "Olga", "Pieter", "Quinten", "Roos", "Sanne", "Tim",
         "Uma", "Vera", "Wout", "Xander", "Yara", "Zoë", "Sophie", "Lotte", "Emma", "Julia"]
LAST = ["de Vries", "Jansen", "van den Berg", "Bakker", "Visser", "Smit", "Meijer", "de Boer",
        "Mulder", "de Groot", "Bos", "Vos", "Peters", "Hendriks", "van Leeuwen", "Dekker"]
DOMAINS = ["example.nl", "example.com", "mail.example.org", "voorbeeld.nl", "example.be"]
used = set()


def address(first, last):
    while True:
        local = f"{first}.{last}".lower().replace(" ", "").replace("ë", "e")
        local += str(R.randint(1, 999)) if R.random() < 0.4 else ""
        a = f"{local}@{R.choice(DOMAINS)}"
        if a not in used:
            used.add(a)
            return a


def moment(start, end):
    s = dt.datetime.fromisoformat(start)
    e = dt.datetime.fromisoformat(end)
    t = s + dt.timedelta(seconds=R.randint(0, int((e - s).total_seconds())))
    return t.strftime("%Y-%m-%d %H:%M:%S")


def days_ago(lo, hi):
    return (AS_OF - dt.timedelta(days=R.randint(lo, hi), seconds=R.randint(0, 86399))).strftime("%Y-%m-%d %H:%M:%S")


def ip():
    return f"{R.randint(31, 217)}.{R.randint(0, 255)}.{R.randint(0, 255)}.{R.randint(1, 254)}"


def person():
    f, l = R.choice(FIRST), R.choice(LAST)
    return f, l, address(f, l)


SHOP_HEADER = ["E-mailadres", "Voornaam", "Achternaam", "Status", "Aanmelddatum", "IP-adres",
               "Bron", "Laatst geopend", "Laatst geklikt", "Laatste bestelling", "Labels"]


def shop_rows():
    rows = []

    def add(n, status="ingeschreven", signup=("2019-01-01", "2026-06-30"), with_ip=True,
            source="website-formulier", opened=(5, 400), clicked=None, order=None, tags=""):
        for _ in range(n):
            f, l, a = person()
            rows.append([a, f, l, status,
                         moment(*signup) if signup else "",
                         ip() if with_ip else "", source,
                         days_ago(*opened) if opened else "",
                         days_ago(*clicked) if clicked else "",
                         days_ago(*order) if order else "", tags])

    add(95, clicked=(10, 500), tags="nieuwsbrief")                       # keep
    add(10, opened=(675, 725))                                            # nearing-inactivity
    add(28, opened=(760, 1500), signup=("2018-06-01", "2022-12-31"))      # inactive
    add(26, signup=("2012-03-01", "2018-05-20"), opened=(10, 300))        # pre-gdpr, full proof
    add(18, with_ip=False, source="", opened=(10, 300))                   # incomplete-proof
    add(14, status="uitgeschreven", opened=(200, 900))                    # withdrawn
    add(7, status="gebounced", opened=None)                               # bounced
    add(3, status="onbevestigd", signup=("2026-11-18", "2026-11-29"), opened=None)  # pending
    add(4, status="onbevestigd", signup=("2026-06-01", "2026-09-30"), opened=None)  # unconfirmed
    add(2, status="disabled", opened=(30, 300))                           # disabled
    add(2, status="gepauzeerd", opened=(30, 300))                         # unknown-status
    add(8, source="checkout", opened=(10, 200), order=(10, 300))          # no-marketing-consent
    add(5, signup=None, with_ip=False, source="", opened=(10, 200))       # no-consent-proof
    add(3, source="gekocht bestand 2020", opened=(10, 200))               # bought list
    # A bulk import made by the account owner: one second, no IPs (import artefact).
    for _ in range(22):
        f, l, a = person()
        rows.append([a, f, l, "ingeschreven", "2021-03-15 09:00:00", "", "website",
                     days_ago(10, 300), "", "", "import-2021"])
    # Invalid addresses.
    for bad in ["jan.devries@example", "info at example.nl", "@example.nl"]:
        rows.append([bad, "Jan", "de Vries", "ingeschreven", moment("2020-01-01", "2024-01-01"),
                     ip(), "website-formulier", days_ago(10, 300), "", "", ""])
    R.shuffle(rows)
    # Duplicates as real lists have them: case and space variants of earlier rows.
    for i in (3, 17, 40):
        dup = list(rows[i])
        dup[0] = "  " + dup[0].upper() + " "
        dup[7] = days_ago(1, 30)
        rows.append(dup)
    # Free text that a spreadsheet would run, a name with a comma, a phone-only customer.
    rows[5][1] = "=HYPERLINK(\"http://example.invalid\")"
    rows[8][2] = "Visser, van"
    rows.insert(60, ["", "Telefoon", "Klant", "ingeschreven", moment("2021-01-01", "2022-01-01"),
                     "", "kassa", "", "", days_ago(30, 90), ""])
    return rows


MC_BASE = ["Email Address", "First Name", "Last Name", "MEMBER_RATING", "OPTIN_TIME", "OPTIN_IP",
           "CONFIRM_TIME", "CONFIRM_IP", "LATITUDE", "LONGITUDE", "GMTOFF", "DSTOFF", "TIMEZONE",
           "CC", "REGION"]
MC_TAIL = ["LEID", "EUID", "NOTES", "TAGS"]


def mc_consent(kind):
    """(OPTIN_TIME, OPTIN_IP, CONFIRM_TIME, CONFIRM_IP) for a kind of sign-up."""
    if kind == "doi":
        t = dt.datetime.fromisoformat(moment("2018-06-01", "2026-10-01"))
        c = t + dt.timedelta(minutes=R.randint(1, 300))
        return t.strftime("%Y-%m-%d %H:%M:%S"), ip(), c.strftime("%Y-%m-%d %H:%M:%S"), ip()
    if kind == "old":
        t = dt.datetime.fromisoformat(moment("2013-01-01", "2018-05-01"))
        c = t + dt.timedelta(minutes=R.randint(1, 300))
        return t.strftime("%Y-%m-%d %H:%M:%S"), "", c.strftime("%Y-%m-%d %H:%M:%S"), ip()
    t = moment("2018-06-01", "2025-12-01")   # imported / added by the account owner
    return t, "", t, ""


def mc_row(kind, extra):
    f, l, a = person()
    o, oi, c, ci = mc_consent(kind)
    return ([a, f, l, str(R.randint(1, 5)), o, oi, c, ci, "52.37", "4.89", "1", "2",
             "Europe/Amsterdam", "NL", "NH"] + extra +
            [str(R.randint(10_000_000, 99_999_999)), f"{R.getrandbits(40):010x}", "",
             '"Nieuwsbrief"' if R.random() < 0.5 else ""])


def write(path, header, rows, delimiter=","):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f, delimiter=delimiter, lineterminator="\n")
        w.writerow(header)
        w.writerows(rows)


def main():
    write("sample-data/webshop-nieuwsbrief.csv", SHOP_HEADER, shop_rows(), delimiter=";")

    sub = [mc_row("doi", [moment("2024-01-01", "2026-11-01")]) for _ in range(55)]
    sub += [mc_row("old", [moment("2024-01-01", "2026-11-01")]) for _ in range(20)]
    sub += [mc_row("import", [moment("2024-01-01", "2026-11-01")]) for _ in range(12)]
    write("sample-data/mailchimp/subscribed_email_audience_export_3f9a1c2b7d.csv",
          MC_BASE + ["LAST_CHANGED"] + MC_TAIL, sub)
    unsub = [mc_row(R.choice(["doi", "import"]),
                    [moment("2020-01-01", "2026-10-01"), "Nieuwsbrief oktober", "a1b2c3d4e5",
                     R.choice(["NORMAL", "SPAM"]), ""]) for _ in range(12)]
    write("sample-data/mailchimp/unsubscribed_email_audience_export_3f9a1c2b7d.csv",
          MC_BASE + ["UNSUB_TIME", "UNSUB_CAMPAIGN_TITLE", "UNSUB_CAMPAIGN_ID", "UNSUB_REASON",
                     "UNSUB_REASON_OTHER"] + MC_TAIL, unsub)
    cleaned = [mc_row("doi", [moment("2020-01-01", "2026-10-01"), "Nieuwsbrief mei", "f6e5d4c3b2"])
               for _ in range(8)]
    write("sample-data/mailchimp/cleaned_email_audience_export_3f9a1c2b7d.csv",
          MC_BASE + ["CLEAN_TIME", "CLEAN_CAMPAIGN_TITLE", "CLEAN_CAMPAIGN_ID"] + MC_TAIL, cleaned)
    nonsub = [mc_row("import", [moment("2024-01-01", "2026-11-01")]) for _ in range(10)]
    write("sample-data/mailchimp/nonsubscribed_email_audience_export_3f9a1c2b7d.csv",
          MC_BASE + ["LAST_CHANGED"] + MC_TAIL, nonsub)

    # Mailchimp's audience export has no engagement columns; its activity export does.
    activity = []
    for row in sub + nonsub:
        if R.random() < 0.85:
            activity.append([row[0], days_ago(3, 700) if R.random() < 0.8 else days_ago(760, 1400),
                             days_ago(3, 900) if R.random() < 0.3 else ""])
    activity.append(["nobody-here@example.net", days_ago(3, 100), ""])
    write("sample-activity/mailchimp-activity.csv", ["Email Address", "Last Open", "Last Click"],
          activity)


if __name__ == "__main__":
    main()

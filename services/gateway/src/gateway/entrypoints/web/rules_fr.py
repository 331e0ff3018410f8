"""The rules a refused form breaks, in French on French pages: the API's rules are English
(pydantic's and the services' own words); each known shape has its French wording, and a rule
without one is shown as it is rather than guessed."""

from __future__ import annotations

import re

# (English rule, French wording); groups are carried over. First match wins.
RULES: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(english, re.IGNORECASE), french)
    for english, french in (
        (r"^Field required$", "est obligatoire"),
        (
            r"^String should have at least (\d+) characters?$",
            r"doit compter au moins \1 caractères",
        ),
        (r"^String should have at most (\d+) characters?$", r"doit compter au plus \1 caractères"),
        (r"^must be at least (\d+) characters long$", r"doit compter au moins \1 caractères"),
        (r"^value is not a valid email address\b.*$", "n'est pas une adresse e-mail valide"),
        (r"^Input should be a valid integer\b.*$", "doit être un nombre entier"),
        (r"^Input should be a valid (number|decimal)\b.*$", "doit être un nombre"),
        (r"^Input should be a valid date\b.*$", "doit être une date au format AAAA-MM-JJ"),
        (r"^Input should be greater than or equal to (\S+)$", r"doit être au moins \1"),
        (r"^Input should be greater than (\S+)$", r"doit être supérieur à \1"),
        (r"^Input should be less than or equal to (\S+)$", r"doit être au plus \1"),
        (r"^Input should be (('[^']*'(, | or )?)+)$", r"doit valoir \1"),
        (r"^List should have at least (\d+) items?.*$", r"doit contenir au moins \1 élément(s)"),
        (
            r"^must be a valid SIREN \(9 digits with a correct checksum\)$",
            "doit être un SIREN valide (9 chiffres, clé de contrôle correcte)",
        ),
        (
            r"^'([^']*)' is not an ISO 3166 country \(FR\) or subdivision \(FR-IDF\)$",
            r"« \1 » n'est ni un pays ISO 3166 (FR) ni une subdivision (FR-IDF)",
        ),
        (r"^must not be empty$", "ne doit pas être vide"),
        (r"^must be at most (\d+) MiB$", r"doit faire au plus \1 Mio"),
        (r"^email or password is wrong$", "e-mail ou mot de passe incorrect"),
        (r"^is not your current password$", "n'est pas votre mot de passe actuel"),
        (r"^must differ from the current password$", "doit différer du mot de passe actuel"),
        (r"^must be at least (\d+) characters$", r"doit compter au moins \1 caractères"),
        (r"^already a member of your team$", "est déjà membre de votre équipe"),
        (
            r"^an invitation to this address is pending; revoke it first$",
            "une invitation à cette adresse est en attente : retirez-la d'abord",
        ),
        (r"^an account already uses this address$", "un compte utilise déjà cette adresse"),
        (
            r"^your team keeps at least one admin: make another person admin first$",
            "votre équipe garde au moins un administrateur : nommez d'abord une autre personne"
            " administrateur",
        ),
        (
            r"^a provider serves B2B cases, consumer cases or both$",
            "un prestataire traite des dossiers d'entreprises, de particuliers, ou les deux",
        ),
        (r"^must be greater than min_amount$", "doit dépasser la créance la plus petite"),
        (
            r"^a collection agency cannot act before a court$",
            "une agence de recouvrement ne peut pas agir en justice",
        ),
        # What messaging refuses on the debtor portal (a promise, a plan, a payment, a dispute).
        (r"^more than zero$", "doit être supérieur à zéro"),
        (r"^at most what is owed \((\d+) minor units\)$", r"au plus ce qui est dû (\1 centimes)"),
        (r"^today or later$", "aujourd'hui ou plus tard"),
        (r"^today or earlier$", "aujourd'hui ou avant"),
        (r"^within (\d+) days$", r"dans les \1 jours"),
        (r"^a proof of payment is required$", "un justificatif de paiement est requis"),
        (r"^a vault document id \(UUID\)$", "un identifiant de document (UUID)"),
        (r"^at most (\d+) documents$", r"au plus \1 documents"),
        (r"^at most (\d+) characters$", r"au plus \1 caractères"),
        (
            r"^say what is contested when the reason is other$",
            "dites ce que vous contestez lorsque le motif est « autre »",
        ),
        (r"^one of (.+)$", r"l'une des valeurs : \1"),
        (r"^between (\d+) and (\d+)$", r"entre \1 et \2"),
        (
            r"^each instalment must be at least one minor unit$",
            "chaque échéance doit être d'au moins un centime",
        ),
        (r"^nothing is owed on this case$", "rien n'est dû sur ce dossier"),
        (r"^an ISO 8601 date \(YYYY-MM-DD\)$", "une date au format AAAA-MM-JJ"),
        (
            r"^weekly, fortnightly or monthly$",
            "hebdomadaire, toutes les deux semaines ou mensuelle",
        ),
        (r"^the claim's currency, (\w+)$", r"la devise de la créance, \1"),
        # What the portal's own pages refuse (proof files, a declared payment, a dispute).
        (r"^choose a reason from the list$", "choisissez un motif dans la liste"),
        (r"^a PDF, JPEG or PNG file$", "un fichier PDF, JPEG ou PNG"),
        (r"^each file at most (\d+) MiB$", r"chaque fichier doit faire au plus \1 Mo"),
        (r"^the file is empty$", "le fichier est vide"),
        (r"^one file$", "un seul fichier"),
        (r"^at most (\d+) files$", r"au plus \1 fichiers"),
        (r"^not more than what is owed$", "pas plus que ce qui est dû"),
        (r"^more than nothing$", "doit être supérieur à zéro"),
        (r"^transfer, cheque or card$", "virement, chèque ou carte"),
        (
            r"^must not contain control characters$",
            "ne doit pas contenir de caractères de contrôle",
        ),
        (r"^an amount in euros, for example 120,50$", "un montant en euros, par exemple 120,50"),
        # A creditor's money and webhook settings (the statement form; messaging's URL rules).
        (r"^must be a calendar month, YYYY-MM$", "doit être un mois au format AAAA-MM"),
        (r"^must not be in the future$", "ne doit pas être dans le futur"),
        (r"^must be pdf or csv$", "doit valoir pdf ou csv"),
        (r"^must be between (-?\d+) and (-?\d+)$", r"doit être compris entre \1 et \2"),
        (r"^choose at least one event type$", "choisissez au moins un type d'événement"),
        (r"^must use https$", "doit utiliser https"),
        (r"^not a valid URL$", "n'est pas une URL valide"),
        (r"^must name a host$", "doit nommer un hôte"),
        (r"^must not carry credentials$", "ne doit pas contenir d'identifiants"),
        (r"^must not carry a fragment$", "ne doit pas contenir de fragment (#)"),
        (r"^the host does not resolve$", "l'hôte est introuvable (DNS)"),
        (
            r"^must not target a loopback or internal host$",
            "ne doit pas viser la machine elle-même ni un hôte interne",
        ),
        (
            r"^must not target a loopback, private, link-local or metadata address$",
            "ne doit pas viser une adresse locale, privée, de lien local ou de métadonnées",
        ),
        (
            r"^an absolute URL of at most (\d+) characters$",
            r"une URL absolue d'au plus \1 caractères",
        ),
    )
)


def in_french(rule: str) -> str:
    """The rule in French when its shape is known, else unchanged."""
    for english, french in RULES:
        if english.match(rule):
            return english.sub(french, rule, count=1).replace("' or '", "' ou '")
    return rule


def rule_in(language: str, rule: str) -> str:
    """The rule as a page in `language` shows it."""
    return in_french(rule) if language == "fr" else rule

"""Word lists the demo draws from: countries, company name parts, job titles, message templates.

Everything here is plain data. Each country row ties a Faker locale to the phone region, time
zone and language that a person from there would plausibly have, so one draw of a country
yields a consistent person.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Country:
    code: str  # ISO 3166 alpha-2, also the phonenumbers region
    locale: str  # Faker locale for names and addresses
    language: str
    time_zones: tuple[str, ...]
    free_mail: tuple[str, ...]
    company_suffixes: tuple[str, ...]
    weight: float  # share of people and companies from this country


COUNTRIES: tuple[Country, ...] = (
    Country("US", "en_US", "en", ("America/New_York", "America/Chicago", "America/Denver", "America/Los_Angeles"),
            ("gmail.com", "yahoo.com", "outlook.com", "icloud.com"), ("Inc.", "LLC", "Corp.", ""), 0.30),
    Country("GB", "en_GB", "en", ("Europe/London",), ("gmail.com", "outlook.com", "btinternet.com"),
            ("Ltd", "plc", "Group", ""), 0.10),
    Country("DE", "de_DE", "de", ("Europe/Berlin",), ("gmx.de", "web.de", "t-online.de", "gmail.com"),
            ("GmbH", "AG", "GmbH & Co. KG", ""), 0.10),
    Country("FR", "fr_FR", "fr", ("Europe/Paris",), ("orange.fr", "free.fr", "gmail.com", "laposte.net"),
            ("SA", "SAS", "SARL", ""), 0.08),
    Country("ES", "es_ES", "es", ("Europe/Madrid",), ("gmail.com", "hotmail.es", "telefonica.net"),
            ("S.A.", "S.L.", ""), 0.05),
    Country("IT", "it_IT", "it", ("Europe/Rome",), ("libero.it", "gmail.com", "virgilio.it"),
            ("S.p.A.", "S.r.l.", ""), 0.05),
    Country("NL", "nl_NL", "nl", ("Europe/Amsterdam",), ("ziggo.nl", "gmail.com", "kpnmail.nl"), ("B.V.", "N.V.", ""),
            0.04),
    Country("SE", "sv_SE", "sv", ("Europe/Stockholm",), ("telia.com", "gmail.com", "bredband.net"), ("AB", ""), 0.03),
    Country("BR", "pt_BR", "pt", ("America/Sao_Paulo",), ("gmail.com", "uol.com.br", "bol.com.br"),
            ("Ltda.", "S.A.", ""), 0.06),
    Country("MX", "es_MX", "es", ("America/Mexico_City",), ("gmail.com", "hotmail.com", "prodigy.net.mx"),
            ("S.A. de C.V.", ""), 0.04),
    Country("JP", "ja_JP", "ja", ("Asia/Tokyo",), ("yahoo.co.jp", "gmail.com", "docomo.ne.jp"), ("K.K.", ""), 0.04),
    Country("IN", "en_IN", "en", ("Asia/Kolkata",), ("gmail.com", "rediffmail.com", "yahoo.co.in"),
            ("Pvt Ltd", "Ltd", ""), 0.05),
    Country("AU", "en_AU", "en", ("Australia/Sydney", "Australia/Melbourne", "Australia/Perth"),
            ("bigpond.com", "gmail.com", "optusnet.com.au"), ("Pty Ltd", ""), 0.03),
    Country("CA", "en_CA", "en", ("America/Toronto", "America/Vancouver"), ("gmail.com", "rogers.com", "shaw.ca"),
            ("Inc.", "Ltd.", ""), 0.03),
)

# A company name is a stem (an invented word or a founder's surname) plus a trade word that
# fits its industry, e.g. "Bluefin Analytics" or "Keller Logistics".
NAME_STEMS: tuple[str, ...] = (
    "Acme", "Apex", "Arbor", "Atlas", "Aurora", "Beacon", "Birch", "Blue Harbor", "Bluefin", "Bright", "Cascade",
    "Cedar", "Citadel", "Clearwater", "Cobalt", "Copper", "Crescent", "Crest", "Delta", "Eagle", "Ember", "Evergreen",
    "Falcon", "Fjord", "Foxglove", "Frontier", "Galaxy", "Granite", "Greenleaf", "Harbor", "Helix", "Horizon",
    "Ironwood", "Juniper", "Keystone", "Lakeside", "Lantern", "Linden", "Lumen", "Maple", "Meridian", "Mistral",
    "Nimbus", "North Star", "Northwind", "Novus", "Oak Ridge", "Omega", "Onyx", "Orbit", "Orchid", "Pacific",
    "Paragon", "Peak", "Pinnacle", "Pioneer", "Polaris", "Prairie", "Prism", "Quantum", "Quarry", "Radiant",
    "Redwood", "Ridgeline", "River", "Sable", "Saffron", "Sapphire", "Sequoia", "Sierra", "Silverline", "Solstice",
    "Spruce", "Sterling", "Stonebridge", "Summit", "Sunrise", "Tandem", "Terra", "Thistle", "Tidewater", "Titan",
    "Topaz", "Trident", "True North", "Umbra", "Unity", "Vanguard", "Vertex", "Vista", "Wavecrest", "Westfield",
    "Willow", "Zenith", "Zephyr",
)

INDUSTRY_WORDS: dict[str, tuple[str, ...]] = {
    "agriculture": ("Farms", "Agri", "Growers", "Seeds", "Harvest"),
    "construction": ("Builders", "Construction", "Engineering", "Contractors", "Structures"),
    "education": ("Academy", "Learning", "Institute", "Education", "School"),
    "energy": ("Energy", "Power", "Solar", "Utilities", "Renewables"),
    "finance": ("Capital", "Financial", "Partners", "Bank", "Investments"),
    "healthcare": ("Health", "Medical", "Clinics", "Care", "Pharma"),
    "hospitality": ("Hotels", "Hospitality", "Resorts", "Dining", "Travel"),
    "manufacturing": ("Manufacturing", "Industries", "Works", "Fabrication", "Components"),
    "media": ("Media", "Studios", "Publishing", "Productions", "Press"),
    "nonprofit": ("Foundation", "Trust", "Alliance", "Society", "Initiative"),
    "public": ("Authority", "Agency", "Council", "Services", "Board"),
    "real_estate": ("Properties", "Realty", "Estates", "Development", "Living"),
    "retail": ("Stores", "Outfitters", "Market", "Supply", "Goods"),
    "software": ("Software", "Labs", "Analytics", "Systems", "Cloud"),
    "telecom": ("Telecom", "Networks", "Communications", "Connect", "Wireless"),
    "transport": ("Logistics", "Freight", "Transport", "Shipping", "Mobility"),
    "other": ("Group", "Holdings", "Solutions", "Consulting", "Services"),
}

# Job titles by seniority: level 0 heads the org chart, deeper levels report upwards.
TITLES_BY_LEVEL: tuple[tuple[str, ...], ...] = (
    ("Chief Executive Officer", "Managing Director", "President", "Founder & CEO"),
    ("Chief Financial Officer", "Chief Technology Officer", "VP Sales", "VP Operations", "Head of Procurement",
     "Chief Marketing Officer", "VP Customer Success"),
    ("Sales Director", "IT Manager", "Purchasing Manager", "Marketing Manager", "Operations Manager",
     "Finance Manager", "Head of HR", "Customer Service Manager", "Engineering Manager"),
    ("Account Executive", "Buyer", "Software Engineer", "Analyst", "Office Manager", "Project Manager",
     "Accountant", "Marketing Specialist", "Support Specialist", "Consultant", "Administrator", "Designer"),
)
MEMBERSHIP_ROLES_BY_LEVEL: tuple[tuple[str, ...], ...] = (
    ("Decision maker", "Executive sponsor"),
    ("Decision maker", "Economic buyer", "Executive sponsor"),
    ("Champion", "Influencer", "Technical evaluator"),
    ("User", "Influencer", "Billing contact", "Technical contact", ""),
)
SECONDARY_ROLES: tuple[str, ...] = ("Advisor", "Board member", "Consultant", "Former employee", "Partner contact")

SOURCES: tuple[tuple[str, float], ...] = (
    ("website", 0.26), ("referral", 0.14), ("trade show", 0.10), ("webinar", 0.08), ("cold call", 0.08),
    ("linkedin", 0.10), ("partner", 0.07), ("import", 0.09), ("advertising", 0.08),
)
CONTACT_TAGS: tuple[str, ...] = (
    "vip", "newsletter", "beta tester", "decision maker", "event 2024", "event 2025", "champion", "churn risk",
    "upsell", "reference customer", "do not call", "partner",
)
ACCOUNT_TAGS: tuple[str, ...] = ("strategic", "key account", "reseller", "at risk", "expansion", "public sector")

PRODUCTS: tuple[str, ...] = (
    "Rapport Cloud", "the Analytics add-on", "the Enterprise plan", "the support contract", "the onboarding package",
    "the API bundle", "the annual licence", "the hardware kit", "the training course", "the mobile app",
)

# Subjects and bodies per channel and direction; "{p}" is a product, "{n}" a number.
SUBJECTS: dict[tuple[str, str], tuple[str, ...]] = {
    ("email", "outbound"): ("Following up on {p}", "Your quote for {p}", "Invitation: product webinar",
                            "Renewal of {p}", "Next steps", "Proposal #{n}", "Checking in", "Welcome aboard"),
    ("email", "inbound"): ("Re: Following up on {p}", "Question about invoice #{n}", "Re: Your quote for {p}",
                           "Problem with {p}", "Request for a demo", "Re: Next steps", "Pricing question",
                           "Cancellation request"),
    ("phone", "outbound"): ("Discovery call", "Follow-up call about {p}", "Renewal call", "Check-in call",
                            "Call about proposal #{n}"),
    ("phone", "inbound"): ("Support call: {p}", "Billing question", "Inbound call about {p}", "Complaint",
                           "Order status #{n}"),
    ("chat", "inbound"): ("Chat: login problem", "Chat: pricing for {p}", "Chat: order #{n}", "Chat: feature question"),
    ("chat", "outbound"): ("Proactive chat on pricing page", "Chat follow-up"),
    ("sms", "outbound"): ("Appointment reminder", "Delivery update for order #{n}", "Verification code",
                          "Renewal reminder"),
    ("sms", "inbound"): ("SMS reply", "SMS: reschedule request", "SMS: STOP"),
    ("web", "inbound"): ("Visited the pricing page", "Downloaded the {p} brochure", "Filled in the contact form",
                         "Registered for a webinar", "Read the case study"),
    ("web", "outbound"): ("Personalised landing page viewed",),
    ("social", "inbound"): ("Mention on LinkedIn", "Direct message", "Comment on our post about {p}"),
    ("social", "outbound"): ("LinkedIn connection request", "Replied to a comment", "Shared a case study"),
    ("in_person", "outbound"): ("On-site meeting", "Quarterly business review", "Lunch meeting",
                                "Workshop on {p}"),
    ("in_person", "inbound"): ("Visit at our booth", "Walk-in at the office"),
    ("portal", "inbound"): ("Portal: ticket #{n} opened", "Portal: invoice #{n} downloaded",
                            "Portal: profile updated", "Portal: knowledge base search"),
    ("portal", "outbound"): ("Portal: answer to ticket #{n}",),
    ("letter", "outbound"): ("Contract for {p}", "Annual statement", "Payment reminder #{n}", "Welcome pack"),
    ("letter", "inbound"): ("Signed contract #{n}", "Letter of complaint"),
    ("meeting", "outbound"): ("Video call: product demo", "Discovery meeting", "Proposal walk-through",
                              "Kick-off meeting"),
    ("meeting", "inbound"): ("Meeting they asked for: renewal", "Meeting they asked for: pricing"),
}
BODIES: dict[str, tuple[str, ...]] = {
    "email": ("Thanks for your time today. As discussed, I attach the details for {p}.",
              "Could you confirm the number of seats you need? We can start next month.",
              "We noticed a problem with {p} since the last update. Can someone look at it?",
              "Please find the revised proposal attached; the discount is valid until the end of the quarter.",
              "Happy to set up a demo for your team. Would Tuesday or Thursday suit you?"),
    "phone": ("Talked through the requirements; they want a pilot for {p}.",
              "Customer asked about the invoice; explained the pro-rated charge.",
              "No answer; will try again later this week.",
              "Budget approved for next quarter. Send the contract.",
              "Reported an outage of {p}; escalated to second level."),
    "chat": ("Customer could not log in; reset the password and confirmed access.",
             "Asked whether {p} integrates with their ERP. Sent the documentation link.",
             "Wanted a delivery date for the order; gave the tracking number."),
    "sms": ("Reminder: your appointment is tomorrow at 10:00.", "Your order has shipped.", "Reply YES to confirm."),
    "web": ("", "Session of 6 pages from a search ad.", "Came from the newsletter link."),
    "social": ("Liked our post and asked about availability in their region.",
               "Recommended us to a colleague in a public comment."),
    "in_person": ("Met the buying committee; next step is a technical workshop.",
                  "Reviewed the last quarter: usage up, two open support issues.",
                  "Walked through the roadmap for {p}."),
    "portal": ("", "Self-service request handled without an agent.", "Downloaded the latest invoice."),
    "letter": ("Sent by post with return envelope.", "Original signed copy received and filed."),
    "meeting": ("Agreed on the scope; they will send the requirements.", "Demo went well; pricing next."),
}
NOTE_TEXTS: tuple[str, ...] = (
    "Prefers email over phone; do not call before 10am.",
    "Budget cycle starts in October; revisit then.",
    "Key decision maker is on parental leave until next quarter.",
    "Mentioned they are evaluating two competitors.",
    "Very happy with support lately; good reference candidate.",
    "Asked for a discount on the renewal; check with the manager.",
    "Moved to a new office; update the shipping address.",
    "Sensitive about price increases, handle renewal carefully.",
    "Interested in the analytics add-on after the webinar.",
    "Signed the NDA; technical deep-dive can go ahead.",
)
TASK_TITLES: tuple[str, ...] = (
    "Call back about the proposal", "Send the revised quote", "Prepare the quarterly review", "Follow up on invoice",
    "Schedule a demo", "Check contract renewal date", "Send onboarding material", "Update account plan",
    "Confirm meeting agenda", "Reply to support escalation", "Ask for a referral", "Send the case study",
)

from rapport.core.models import User
from rapport.parties.services import contact_create


def test_contact_create_normalises_email_and_phone(rep: User) -> None:
    # given / when
    contact = contact_create(
        actor=rep,
        data={
            "first_name": "Ada",
            "last_name": "Lovelace",
            "emails": ["Ada@Example.COM"],
            "phones": ["(415) 555-0100"],
        },
    )
    # then
    assert contact.email == "ada@example.com"
    assert contact.phone == "+14155550100"
    assert contact.owner == rep
    assert contact.team == rep.team
    assert contact.search_text == "ada lovelace ada@example.com 14155550100"

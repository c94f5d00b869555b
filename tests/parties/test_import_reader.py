"""Reading files: encodings, delimiters, Google/Outlook/vCard, and every kind of malformed input."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest

from rapport.parties.choices import ImportStatus
from rapport.parties.imports.errors import ImportFileError
from rapport.parties.imports.mapping import detect_source, suggest_mapping
from rapport.parties.imports.records import CsvRecordReader
from rapport.parties.imports.rows import PhoneNormalizer
from rapport.parties.imports.services import import_job_configure, import_job_create, import_run
from rapport.parties.imports.sniff import sniff_bytes
from rapport.parties.models import Contact, ImportJob
from rapport.parties.normalize import phone_normalize


@pytest.fixture(autouse=True)
def _import_dir(settings, tmp_path):
    settings.RAPPORT_IMPORT_DIR = tmp_path / "imports"


def read(data: bytes, **kwargs) -> tuple[list[str], list]:
    sniffed = sniff_bytes(data)
    reader = CsvRecordReader(io.BytesIO(data), encoding=sniffed.encoding, delimiter=sniffed.delimiter, **kwargs)
    return reader.header, list(reader)


def run(actor, tmp_path: Path, data: bytes, name="f.csv", **configure) -> ImportJob:
    source = tmp_path / name
    source.write_bytes(data)
    job = import_job_create(actor=actor, kind="contacts", path=source, original_name=name)
    if job.status == ImportStatus.FAILED:
        return job
    if configure:
        import_job_configure(actor=actor, job=job, mode="upsert", **configure)
    return import_run(job_id=job.pk)


def errors_of(job: ImportJob) -> list[list[str]]:
    with open(job.error_file, newline="", encoding="utf-8") as handle:
        return list(csv.reader(handle))[1:]


@pytest.mark.parametrize("delimiter", [",", ";", "\t", "|"])
def test_delimiters_are_detected(delimiter):
    # given the same file with each delimiter
    data = f"First Name{delimiter}Email\nAda{delimiter}ada@example.com\n".encode()
    # when read
    header, records = read(data)
    # then the cells come out right
    assert header == ["First Name", "Email"]
    assert [r.cells for r in records] == [["Ada", "ada@example.com"]]


@pytest.mark.parametrize(
    ("encoded", "encoding"),
    [
        ("First Name,Email\nJosé,jose@example.com\n".encode(), "utf-8"),
        ("\ufeffFirst Name,Email\nJosé,jose@example.com\n".encode(), "utf-8-sig"),
        ("First Name,Email\nJosé,jose@example.com\n".encode("latin-1"), "cp1252"),
        ("\ufeffFirst Name,Email\r\nJosé,jose@example.com\r\n".encode("utf-16-le"), "utf-16"),
        ("\ufeffFirst Name,Email\r\nJosé,jose@example.com\r\n".encode("utf-16-be"), "utf-16"),
    ],
)
def test_encodings_are_detected_and_decoded(encoded, encoding):
    # when each encoding is read
    assert sniff_bytes(encoded).encoding == encoding
    header, records = read(encoded)
    # then the accented name survives and the BOM is not part of the header
    assert header == ["First Name", "Email"]
    assert [r.cells for r in records] == [["José", "jose@example.com"]]


def test_latin1_file_imports_correctly(rep, tmp_path):
    # given a Latin-1 file
    data = "First Name,Last Name,Email\nJürgen,Müller,jm@example.de\n".encode("latin-1")
    # when imported
    job = run(rep, tmp_path, data)
    # then the umlauts are right
    assert (job.encoding, job.created_count) == ("cp1252", 1)
    assert Contact.objects.get().last_name == "Müller"


def test_undecodable_bytes_reject_that_row_only(rep, tmp_path):
    # given a UTF-8 file whose third line holds a stray Latin-1 byte
    data = "First Name,Email\nJosé,jose@example.com\nRenée,renee@example.com\n".encode()
    data += b"Bad\xe9,bad@example.com\nAlan,alan@example.com\n"
    # when imported
    job = run(rep, tmp_path, data)
    # then that row is reported with its column and the bytes, and the others are imported
    assert (job.encoding, job.created_count, job.error_count) == ("utf-8", 3, 1)
    assert errors_of(job)[0][:3] == ["4", "First Name", "Bytes that are not valid utf-8: Bad\\xe9"]
    assert sorted(Contact.objects.values_list("first_name", flat=True)) == ["Alan", "José", "Renée"]


def test_ragged_rows_are_rejected_with_their_line(rep, tmp_path):
    # given a row with one cell too many and one with one too few
    data = b"First Name,Email\nA,a@example.com,extra\nB\nC,c@example.com\n"
    # when imported
    job = run(rep, tmp_path, data)
    # then both are rejected with their line numbers, C imported
    assert [e[:3] for e in errors_of(job)] == [
        ["2", "", "The row has 3 cells but the header has 2."],
        ["3", "", "The row has 1 cells but the header has 2."],
    ]
    assert list(Contact.objects.values_list("first_name", flat=True)) == ["C"]


def test_unbalanced_quote_skips_one_line_and_resumes(rep, tmp_path):
    # given a file whose line 3 opens a quote that never closes
    lines = [b"First Name,Email", b'"Ada",ada@example.com', b'"Broken,b@example.com']
    lines += [f"P{i},p{i}@example.com".encode() for i in range(300)]
    data = b"\n".join(lines) + b"\n"
    # when imported
    job = run(rep, tmp_path, data)
    # then line 3 is reported and every following line is imported
    assert (job.created_count, job.error_count) == (301, 1)
    line, column, reason, raw = errors_of(job)[0]
    assert (line, column, raw) == ("3", "", '"Broken,b@example.com\n')
    assert reason.startswith("Unbalanced quote")


def test_unbalanced_quote_at_end_of_file(rep, tmp_path):
    data = b'First Name,Email\nA,a@example.com\n"B,b@example.com\nC,c@example.com\n'
    job = run(rep, tmp_path, data)
    assert (job.created_count, job.error_count) == (2, 1)
    assert errors_of(job)[0][0] == "3"


def test_quoted_multiline_field_is_one_record():
    # given a quoted field spanning lines with an escaped quote
    header, records = read(b'Name,Note\nAda,"line one\nsays ""hi""\nline three"\nAlan,x\n')
    # then it is one record starting at line 2, the next one at line 5
    assert [(r.line, r.cells) for r in records] == [
        (2, ["Ada", 'line one\nsays "hi"\nline three']),
        (5, ["Alan", "x"]),
    ]


def test_huge_field_is_rejected_and_the_rest_imported(rep, tmp_path):
    # given a 10 MB field on line 3
    data = b"First Name,Email\nA,a@example.com\n" + b"B" * (10 * 1024 * 1024) + b",b@example.com\nC,c@example.com\n"
    # when imported
    job = run(rep, tmp_path, data)
    # then line 3 is rejected and A and C are imported
    assert (job.created_count, job.error_count) == (2, 1)
    assert errors_of(job)[0][:3] == ["3", "", "The row is larger than 1024 KiB; it was skipped."]


def test_file_without_newlines_is_read_in_bounded_chunks():
    # given 5 MB with no newline after the header
    data = b"Name\n" + b"x" * (5 * 1024 * 1024)
    # when read with a small limit
    header, records = read(data, max_record_chars=64 * 1024)
    # then one rejected record, not a 5 MB string
    assert header == ["Name"]
    assert [(r.line, r.cells, len(r.raw) <= 500) for r in records] == [(2, None, True)]


def test_empty_file_fails_the_job_and_writes_nothing(rep, tmp_path):
    job = run(rep, tmp_path, b"")
    assert (job.status, job.message) == (ImportStatus.FAILED, "The file is empty.")
    assert Contact.objects.count() == 0


def test_header_only_file_is_done_with_zero_rows(rep, tmp_path):
    job = run(rep, tmp_path, b"First Name,Email\n")
    assert (job.status, job.total_rows, job.created_count) == (ImportStatus.DONE, 0, 0)


def test_binary_file_fails_with_a_clear_message(rep, tmp_path):
    # given a PNG-like binary
    job = run(rep, tmp_path, b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)) * 10, name="x.png")
    # then the job failed, saying why, and nothing was written
    assert job.status == ImportStatus.FAILED
    assert job.message == (
        "This is not a text file (it contains binary data). Export CSV or vCard and upload that instead."
    )
    assert Contact.objects.count() == 0


def test_empty_file_reader_raises():
    with pytest.raises(ImportFileError, match="empty"):
        sniff_bytes(b"  \n")


GOOGLE = (
    b"Name,Given Name,Family Name,E-mail 1 - Type,E-mail 1 - Value,Phone 1 - Type,Phone 1 - Value,"
    b"Organization 1 - Name,Organization 1 - Title\n"
    b"Grace Hopper,Grace,Hopper,* Work,grace@navy.mil ::: g.hopper@example.com,Mobile,+1 202-555-0170,US Navy,"
    b"Rear Admiral\n"
)
GOOGLE_NEW = (
    b"First Name,Middle Name,Last Name,Organization Name,Organization Title,E-mail 1 - Label,E-mail 1 - Value,"
    b"Phone 1 - Label,Phone 1 - Value\n"
    b"Katherine,,Johnson,NASA,Mathematician,Work,kj@nasa.gov,Mobile,(757) 555-0101\n"
)
OUTLOOK = (
    b"First Name,Middle Name,Last Name,Title,Suffix,E-mail Address,E-mail 2 Address,Mobile Phone,Business Phone,"
    b"Company,Job Title,Birthday\n"
    b"Margaret,,Hamilton,,,mh@mit.edu,margaret@example.com,617-555-0110,617-555-0111,MIT,Engineer,8/17/1936\n"
)


def test_google_export_is_recognised_and_imported(rep, tmp_path):
    job = run(rep, tmp_path, GOOGLE)
    assert (job.file_format, job.created_count, job.error_count) == ("google", 1, 0)
    grace = Contact.objects.get()
    assert (grace.first_name, grace.last_name, grace.email, grace.phone, grace.title, grace.account.name) == (
        "Grace",
        "Hopper",
        "grace@navy.mil",
        "+12025550170",
        "Rear Admiral",
        "US Navy",
    )
    assert list(grace.emails.values_list("email", flat=True)) == ["grace@navy.mil", "g.hopper@example.com"]


def test_new_google_export_is_recognised(db):
    headers = GOOGLE_NEW.split(b"\n")[0].decode().split(",")
    assert detect_source(headers, "csv") == "google"
    mapping = suggest_mapping("contacts", headers)
    assert {k: v for k, v in mapping.items() if v} == {
        "First Name": "first_name",
        "Last Name": "last_name",
        "Organization Name": "company",
        "Organization Title": "title",
        "E-mail 1 - Value": "email",
        "Phone 1 - Value": "phone",
    }


def test_outlook_export_is_recognised_and_imported(rep, tmp_path):
    job = run(rep, tmp_path, OUTLOOK)
    assert (job.file_format, job.created_count, job.error_count) == ("outlook", 1, 0)
    mh = Contact.objects.get()
    assert (mh.email, mh.phone, mh.title, mh.birthday.isoformat(), mh.account.name) == (
        "mh@mit.edu",
        "+16175550110",
        "Engineer",
        "1936-08-17",
        "MIT",
    )
    assert sorted(mh.phones.values_list("number", flat=True)) == ["+16175550110", "+16175550111"]


VCARD3 = (
    b"BEGIN:VCARD\r\nVERSION:3.0\r\nN:Doe;Jane;;;\r\nFN:Jane Doe\r\nEMAIL;TYPE=INTERNET:Jane@Example.com\r\n"
    b"TEL;TYPE=CELL:+1 415 555 0100\r\nORG:Acme Inc;Sales\r\nTITLE:CTO\r\nBDAY:1980-01-15\r\n"
    b"PHOTO;ENCODING=b;TYPE=JPEG:AAAA\r\n BBBB\r\nEND:VCARD\r\n"
)
VCARD4 = (
    "BEGIN:VCARD\r\nVERSION:4.0\r\nFN:Hans Müller\r\nN:Müller;Hans;;;\r\nEMAIL;TYPE=work:hans@muster.de\r\n"
    "TEL;VALUE=uri;TYPE=cell:tel:+49-30-1234567\r\nORG:Muster GmbH\r\nBDAY:19700101\r\nUID:urn:uuid:4fbe\r\n"
    "END:VCARD\r\n"
).encode()


def test_vcard3_is_imported(rep, tmp_path):
    job = run(rep, tmp_path, VCARD3, name="c.vcf")
    assert (job.file_format, job.created_count, job.error_count) == ("vcard", 1, 0)
    jane = Contact.objects.get()
    assert (jane.first_name, jane.last_name, jane.email, jane.phone, jane.title, jane.account.name) == (
        "Jane",
        "Doe",
        "jane@example.com",
        "+14155550100",
        "CTO",
        "Acme Inc",
    )
    assert jane.birthday.isoformat() == "1980-01-15"


def test_vcard4_is_imported_and_reimport_is_unchanged(rep, tmp_path):
    job = run(rep, tmp_path, VCARD4, name="c.vcf")
    again = run(rep, tmp_path, VCARD4, name="c.vcf")
    hans = Contact.objects.get()
    assert (job.created_count, again.created_count, again.unchanged_count) == (1, 0, 1)
    assert (hans.last_name, hans.phone, hans.birthday.isoformat(), hans.external_id) == (
        "Müller",
        "+49301234567",
        "1970-01-01",
        "urn:uuid:4fbe",
    )


def test_broken_vcard_is_rejected_and_the_next_imported(rep, tmp_path):
    data = b"BEGIN:VCARD\r\nVERSION:3.0\r\nFN:No end\r\nBEGIN:VCARD\r\nEND:VCARD\r\n" + VCARD3
    job = run(rep, tmp_path, data, name="c.vcf")
    assert Contact.objects.filter(last_name="Doe").count() == 1
    assert job.error_count >= 1


@pytest.mark.parametrize(
    "raw",
    [
        "+14155550100",
        "(415) 555-0100",
        "415-555-0100",
        "415.555.0100",
        "4155550100",
        "1-415-555-0100",
        "+1 (212) 555-0199",
        "+44 20 7946 0958",
        "+49 30 1234567",
        "0049 30 1234567",
    ],
)
def test_phone_fast_path_agrees_with_phonenumbers(raw):
    assert PhoneNormalizer("US")(raw) == phone_normalize(raw, "US")

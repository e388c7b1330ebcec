"""
Small list files in each supported format, written from the formats' published structure:
FollowTheMoney entities (OpenSanctions' export), the OFAC SDN XML and the UK Sanctions List
(CSV with its report-date line, and XML).
"""

import csv
import io
import json
from pathlib import Path

import pytest

from designations import services

# FollowTheMoney


def ftm_person(entity_id, name, *, aliases=(), birth=None, nationality=None, passport=None):
    properties = {"name": [name], "alias": list(aliases)}
    if birth:
        properties["birthDate"] = [birth]
    if nationality:
        properties["nationality"] = [nationality]
    if passport:
        properties["passportNumber"] = [passport]
    return {"id": entity_id, "schema": "Person", "properties": properties}


def ftm_sanction(sanction_id, entity_id, program_id, *, listed="2021-03-22", authority="OFAC"):
    return {
        "id": sanction_id,
        "schema": "Sanction",
        "properties": {
            "entity": [entity_id],
            "programId": [program_id],
            "authority": [authority],
            "authorityId": [sanction_id.upper()],
            "listingDate": [listed],
        },
    }


def write_ftm(path: Path, entities: list, *, raw_lines=()) -> Path:
    lines = [json.dumps(e, ensure_ascii=False) for e in entities] + list(raw_lines)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


KADYROV = ftm_person(
    "os-kadyrov",
    "Рамзан Ахматович Кадыров",
    aliases=["Ramzan Akhmatovich Kadyrov", "Ramzan Kadyrov"],
    birth="1976-10-05",
    nationality="ru",
)
KADYROV_COMPANY = {
    "id": "os-akhmat-fund",
    "schema": "Organization",
    "properties": {"name": ["Akhmat Kadyrov Foundation"], "country": ["ru"]},
}


@pytest.fixture
def ftm_file(tmp_path):
    """A person (Cyrillic and Latin names), an entity, a listing under an unknown program key,
    and a malformed line between them."""
    return write_ftm(
        tmp_path / "entities.ftm.json",
        [
            KADYROV,
            ftm_sanction("us-glomag-kadyrov", "os-kadyrov", "US-GLOMAG", listed="2020-07-16"),
            ftm_sanction("gb-hr-kadyrov", "os-kadyrov", "GB-HR", listed="2020-12-10"),
            KADYROV_COMPANY,
            ftm_sanction("xx-akhmat", "os-akhmat-fund", "XX-MADEUP", listed="2022-01-01"),
        ],
        raw_lines=['{"id": "broken", "schema": "Person", "properties": {"name": ["Half'],
    )


# OFAC SDN XML

SDN_NS = "https://sanctionslistservice.ofac.treas.gov/api/PublicationPreview/exports/XML"


def sdn_entry(uid, first, last, *, sdn_type="Individual", programs=("GLOMAG",), akas=(),
              birth=None, nationality=None, passport=None) -> str:  # fmt: skip
    parts = [f"<uid>{uid}</uid>"]
    if first:
        parts.append(f"<firstName>{first}</firstName>")
    if last:
        parts.append(f"<lastName>{last}</lastName>")
    parts.append(f"<sdnType>{sdn_type}</sdnType>")
    parts.append(
        "<programList>" + "".join(f"<program>{p}</program>" for p in programs) + "</programList>"
    )
    if passport:
        parts.append(
            f"<idList><id><uid>{uid}1</uid><idType>Passport</idType>"
            f"<idNumber>{passport}</idNumber><idCountry>Russia</idCountry></id></idList>"
        )
    if akas:
        parts.append(
            "<akaList>"
            + "".join(
                f"<aka><uid>{uid}{i}</uid><type>a.k.a.</type><category>strong</category>"
                f"<lastName>{a_last}</lastName><firstName>{a_first}</firstName></aka>"
                for i, (a_first, a_last) in enumerate(akas)
            )
            + "</akaList>"
        )
    if nationality:
        parts.append(
            f"<nationalityList><nationality><uid>{uid}2</uid><country>{nationality}</country>"
            "<mainEntry>true</mainEntry></nationality></nationalityList>"
        )
    if birth:
        parts.append(
            f"<dateOfBirthList><dateOfBirthItem><uid>{uid}3</uid><dateOfBirth>{birth}"
            "</dateOfBirth><mainEntry>true</mainEntry></dateOfBirthItem></dateOfBirthList>"
        )
    return "<sdnEntry>" + "".join(parts) + "</sdnEntry>"


def write_sdn(path: Path, entries: list[str]) -> Path:
    path.write_text(
        '<?xml version="1.0" standalone="yes"?>\n'
        f'<sdnList xmlns="{SDN_NS}">'
        "<publshInformation><Publish_Date>11/24/2026</Publish_Date>"
        f"<Record_Count>{len(entries)}</Record_Count></publshInformation>"
        + "\n".join(entries)
        + "</sdnList>\n",
        encoding="utf-8",
    )
    return path


SDN_PETROV = sdn_entry(
    "40001", "Ivan Sergeyevich", "PETROV", akas=[("Ivan", "PETROFF")], birth="05 Mar 1970",
    nationality="Russia", passport="720123456",
)  # fmt: skip
SDN_COMPANY = sdn_entry("40002", None, "VOLKOV SECURITY LLC", sdn_type="Entity")
SDN_VESSEL = sdn_entry("40003", None, "SEA STAR", sdn_type="Vessel", programs=("IRAN",))
SDN_OTHER_PROGRAM = sdn_entry("40004", "Oleg", "SIDOROV", programs=("RUSSIA-EO14024",))
SDN_MALFORMED = sdn_entry("", "No", "", programs=("GLOMAG",))


# UK Sanctions List

UK_HEADER = [
    "Last Updated", "Unique ID", "OFSI Group ID", "UN Reference Number", "Name 6", "Name 1",
    "Name 2", "Name 3", "Name 4", "Name 5", "Name type", "Alias strength", "Title",
    "Name non-latin script", "Non-latin script type", "Non-latin script language",
    "Regime Name", "Designation Type", "Designation source", "Sanctions Imposed",
    "Other Information", "UK Statement of Reasons", "Address Line 1", "Address Postal Code",
    "Address Country", "Date Designated", "D.O.B", "Nationality(/ies)",
    "National Identifier number", "Passport number", "Position", "Gender", "Town of birth",
    "Country of birth", "Type of entity",
]  # fmt: skip


def uk_row(unique_id, surname, given, *, name_type="Primary Name", non_latin="",
           regime="Global Human Rights", kind="Individual", designated="10/12/2020",
           dob="", nationality="", passport="") -> dict:  # fmt: skip
    return {
        "Last Updated": "01/02/2026", "Unique ID": unique_id, "Name 6": surname,
        "Name 1": given, "Name type": name_type, "Name non-latin script": non_latin,
        "Non-latin script type": "Cyrillic" if non_latin else "", "Regime Name": regime,
        "Designation Type": kind, "Designation source": "UK", "Sanctions Imposed":
        "Asset freeze|Travel Ban", "Date Designated": designated, "D.O.B": dob,
        "Nationality(/ies)": nationality, "Passport number": passport,
    }  # fmt: skip


def write_uk_csv(path: Path, rows: list, *, raw_rows=()) -> Path:
    buffer = io.StringIO()
    buffer.write("Report Date: 24-Nov-2026\n")
    writer = csv.DictWriter(buffer, fieldnames=UK_HEADER, lineterminator="\r\n")
    writer.writeheader()
    for row in rows:
        writer.writerow(row)
    for raw in raw_rows:
        buffer.write(raw + "\r\n")
    path.write_bytes(b"\xef\xbb\xbf" + buffer.getvalue().encode())
    return path


UK_VOLKOV = [
    uk_row("GHR0101", "VOLKOV", "Sergei", dob="00/00/1968", nationality="(1) Russia"),
    uk_row("GHR0101", "VOLKOV", "Sergey", name_type="Alias"),
    uk_row("GHR0101", "", "", name_type="Primary Name Variation", non_latin="Сергей Волков"),
]
UK_ENTITY = [uk_row("GAC0202", "Kazan Holdings", "", regime="Global Anti-Corruption",
                    kind="Entity", designated="09/12/2021")]  # fmt: skip
UK_RUSSIA = [uk_row("RUS1234", "SIDOROV", "Oleg", regime="Russia", designated="01/03/2022")]


def uk_xml_designation(unique_id, names, *, non_latin=(), regime="Global Human Rights",
                       kind="Individual", designated="10/12/2020", dob="",
                       nationality="") -> str:  # fmt: skip
    name_xml = "".join(
        f"<Name><Name1>{given}</Name1><Name6>{surname}</Name6><NameType>{name_type}</NameType>"
        "</Name>"
        for given, surname, name_type in names
    )
    non_latin_xml = "".join(
        f"<NonLatinNames><NameNonLatinScript>{n}</NameNonLatinScript>"
        "<NonLatinScriptType>Cyrillic</NonLatinScriptType>"
        "<NonLatinScriptLanguage>Russian</NonLatinScriptLanguage></NonLatinNames>"
        for n in non_latin
    )
    individual = (
        f"<IndividualDetails><Individual><DOBs><DOB>{dob}</DOB></DOBs><Nationalities>"
        f"<Nationality>{nationality}</Nationality></Nationalities></Individual>"
        "</IndividualDetails>"
        if kind == "Individual"
        else ""
    )
    return (
        f"<Designation><LastUpdated>01/02/2026</LastUpdated>"
        f"<DateDesignated>{designated}</DateDesignated><UniqueID>{unique_id}</UniqueID>"
        f"<Names>{name_xml}</Names>{non_latin_xml}<RegimeName>{regime}</RegimeName>"
        f"<IndividualEntityShip>{kind}</IndividualEntityShip>"
        f"<DesignationSource>UK</DesignationSource>{individual}</Designation>"
    )


def write_uk_xml(path: Path, designations: list[str]) -> Path:
    path.write_text(
        '<?xml version="1.0" encoding="utf-8"?>\n<Designations>'
        + "\n".join(designations)
        + "</Designations>\n",
        encoding="utf-8",
    )
    return path


def run_import(path, format, **kwargs):
    return services.import_designations(format=format, location=str(path), **kwargs)


# The review site's package fixtures (an approved GB-HR dossier on Sergei Volkov and Wang Wei,
# and a package ready to render), shared with tests/reviews.
from tests.reviews.conftest import approved, package  # noqa: E402, F401

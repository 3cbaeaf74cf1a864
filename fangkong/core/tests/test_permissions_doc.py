import json

from fangkong.core.management.commands.permissions_doc import DOC, FIXTURE, render
from fangkong.core.permissions import CAPABILITIES


def test_the_permissions_document_matches_the_roles_fixture():
    assert DOC.read_text(encoding="utf-8") == render(), "run `fangkong permissions_doc`"


def test_roles_only_grant_capabilities_the_code_knows():
    for role in json.loads(FIXTURE.read_text(encoding="utf-8")):
        unknown = set(role["fields"]["capabilities"]) - set(CAPABILITIES)
        assert not unknown, (role["fields"]["code"], unknown)

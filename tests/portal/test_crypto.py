import io

import pytest
from cryptography.fernet import Fernet
from django.core.exceptions import FieldError
from django.core.management import call_command
from django.db import connection, models

from portal.crypto import EncryptedTextField, decrypt, encrypt


class _Probe(models.Model):
    secret = EncryptedTextField(blank=True)

    class Meta:
        app_label = "portal"
        managed = False

    def __str__(self) -> str:
        return str(self.pk)


def test_round_trip_and_ciphertext_differs_each_time():
    token_one, token_two = encrypt("Witness W-7, Minsk"), encrypt("Witness W-7, Minsk")
    assert token_one != token_two
    assert "Minsk" not in token_one
    assert decrypt(token_one) == "Witness W-7, Minsk"


def test_rotation_keeps_old_values_readable_and_rewrites_with_the_new_key(
    settings, transactional_db
):
    old_key, new_key = settings.FIELD_ENCRYPTION_KEYS[0], Fernet.generate_key().decode()
    with connection.schema_editor() as editor:
        editor.create_model(_Probe)
    try:
        row = _Probe.objects.create(secret="Jane Doe, +44 20 7946 0000")
        settings.FIELD_ENCRYPTION_KEYS = [new_key, old_key]

        assert _Probe.objects.get(pk=row.pk).secret == "Jane Doe, +44 20 7946 0000"
        call_command("rotate_encryption_key", stdout=io.StringIO())

        settings.FIELD_ENCRYPTION_KEYS = [new_key]  # the old key is gone now
        assert _Probe.objects.get(pk=row.pk).secret == "Jane Doe, +44 20 7946 0000"
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT secret FROM {_Probe._meta.db_table}")  # noqa: S608
            (raw,) = cursor.fetchone()
        assert "Jane" not in raw
        assert Fernet(new_key.encode()).decrypt(raw.encode()) == b"Jane Doe, +44 20 7946 0000"
    finally:
        with connection.schema_editor() as editor:
            editor.delete_model(_Probe)


def test_a_value_under_an_unknown_key_fails_loudly(settings):
    token = encrypt("secret")
    settings.FIELD_ENCRYPTION_KEYS = [Fernet.generate_key().decode()]
    with pytest.raises(ValueError, match="FIELD_ENCRYPTION_KEYS"):
        decrypt(token)


def test_encrypted_fields_cannot_be_searched():
    with pytest.raises(FieldError):
        _Probe.objects.filter(secret="Jane")

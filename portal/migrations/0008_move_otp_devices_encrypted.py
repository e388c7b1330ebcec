"""
Move the second factors kept by django-otp's TOTP and static plugins (secrets and recovery
codes in clear) into the portal's own devices (secret encrypted, codes as keyed hashes), then
empty the old tables.

The plugins are no longer installed, so their tables are read with plain SQL, if they exist.
Sessions verified with an old device must pass the second factor again (new device ids).
On SQLite, run VACUUM afterwards so that the freed pages no longer hold the old secrets.
"""

from django.db import migrations
from django.utils import timezone

TOTP_TABLE = "otp_totp_totpdevice"
STATIC_DEVICE_TABLE = "otp_static_staticdevice"
STATIC_TOKEN_TABLE = "otp_static_statictoken"  # nosec B105: a table name


def _rows(cursor, sql):
    cursor.execute(sql)
    names = [column[0] for column in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def move_devices(apps, schema_editor):
    from portal.models import RecoveryCode as CurrentRecoveryCode

    connection = schema_editor.connection
    tables = set(connection.introspection.table_names())
    AuthenticatorDevice = apps.get_model("portal", "AuthenticatorDevice")
    RecoveryCodeDevice = apps.get_model("portal", "RecoveryCodeDevice")
    RecoveryCode = apps.get_model("portal", "RecoveryCode")
    quote = connection.ops.quote_name
    now = timezone.now()
    with connection.cursor() as cursor:
        if TOTP_TABLE in tables:
            # Newest first: a user keeps one confirmed app and one being set up at most.
            seen = set()
            for row in _rows(cursor, f"SELECT * FROM {quote(TOTP_TABLE)} ORDER BY id DESC"):  # nosec B608: constant table names
                state = (row["user_id"], bool(row["confirmed"]))
                if state in seen:
                    continue
                seen.add(state)
                AuthenticatorDevice.objects.create(
                    user_id=row["user_id"],
                    name=row["name"][:64],
                    confirmed=bool(row["confirmed"]),
                    key=row["key"],  # EncryptedTextField encrypts on save
                    step=row["step"],
                    t0=row["t0"],
                    digits=row["digits"],
                    tolerance=row["tolerance"],
                    drift=row["drift"],
                    last_t=row["last_t"],
                    throttling_failure_timestamp=row.get("throttling_failure_timestamp"),
                    throttling_failure_count=row.get("throttling_failure_count") or 0,
                    created_at=row.get("created_at") or now,
                    last_used_at=row.get("last_used_at"),
                )
            cursor.execute(f"DELETE FROM {quote(TOTP_TABLE)}")  # nosec B608: constant table names
        if STATIC_DEVICE_TABLE in tables and STATIC_TOKEN_TABLE in tables:
            devices = {}
            for row in _rows(cursor, f"SELECT * FROM {quote(STATIC_DEVICE_TABLE)} ORDER BY id"):  # nosec B608: constant table names
                if row["user_id"] not in devices:
                    devices[row["user_id"]] = RecoveryCodeDevice.objects.create(
                        user_id=row["user_id"], name="Recovery codes", confirmed=True
                    )
            owners = {
                row["id"]: row["user_id"]
                for row in _rows(cursor, f"SELECT id, user_id FROM {quote(STATIC_DEVICE_TABLE)}")  # nosec B608: constant table names
            }
            hashes = set()
            for row in _rows(cursor, f"SELECT device_id, token FROM {quote(STATIC_TOKEN_TABLE)}"):  # nosec B608: constant table names
                device = devices[owners[row["device_id"]]]
                hashes.add((device.pk, CurrentRecoveryCode.hash_of(row["token"])))
            RecoveryCode.objects.bulk_create(
                RecoveryCode(device_id=device_id, code_hash=code_hash)
                for device_id, code_hash in hashes
            )
            cursor.execute(f"DELETE FROM {quote(STATIC_TOKEN_TABLE)}")  # nosec B608: constant table names
            cursor.execute(f"DELETE FROM {quote(STATIC_DEVICE_TABLE)}")  # nosec B608: constant table names


class Migration(migrations.Migration):
    dependencies = [
        ("portal", "0007_two_factor_devices"),
    ]

    operations = [
        migrations.RunPython(move_devices, migrations.RunPython.noop),
    ]

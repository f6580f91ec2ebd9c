"""Foreign keys between customer-keyed tables include customer_id (DESIGN.md section 4).

Django cannot declare composite foreign keys, so the models use ``db_constraint=False`` and these
constraints are added here, DEFERRABLE INITIALLY DEFERRED so that identifying a conversation's
customer (or merging two customers) re-points a case, its conversation and its interactions in one
transaction, checked at commit. A row whose ``customer_id`` is still NULL (not identified yet) is not
checked (MATCH SIMPLE); the services identify a whole thread at once.
"""

from django.db import migrations

COMPOSITE_KEYS = [
    # (table, constraint, columns, referenced table, on delete)
    ("channels_interaction", "interaction_case_fk", "customer_id, case_id", "channels_case", "NO ACTION"),
    ("channels_interaction", "interaction_conversation_fk", "customer_id, conversation_id",
     "channels_conversation", "NO ACTION"),
    ("channels_attachment", "attachment_interaction_fk", "customer_id, interaction_id", "channels_interaction",
     "CASCADE"),
    ("channels_conversation", "conversation_case_fk", "customer_id, case_id", "channels_case", "NO ACTION"),
    ("channels_chatmessage", "chat_message_conversation_fk", "customer_id, conversation_id",
     "channels_conversation", "CASCADE"),
    ("channels_callbackrequest", "callback_conversation_fk", "customer_id, conversation_id",
     "channels_conversation", "NO ACTION"),
    ("channels_callbackrequest", "callback_interaction_fk", "customer_id, interaction_id", "channels_interaction",
     "NO ACTION"),
    ("channels_callsession", "call_session_interaction_fk", "customer_id, interaction_id", "channels_interaction",
     "NO ACTION"),
    ("channels_followup", "follow_up_case_fk", "customer_id, case_id", "channels_case", "NO ACTION"),
    ("channels_followup", "follow_up_interaction_fk", "customer_id, interaction_id", "channels_interaction",
     "NO ACTION"),
    ("channels_letter", "letter_address_fk", "customer_id, address_id", "customers_postaladdress", "NO ACTION"),
    ("channels_letter", "letter_interaction_fk", "customer_id, interaction_id", "channels_interaction",
     "NO ACTION"),
    ("channels_satisfactionsurvey", "survey_case_fk", "customer_id, case_id", "channels_case", "CASCADE"),
    ("channels_satisfactionsurvey", "survey_interaction_fk", "customer_id, interaction_id",
     "channels_interaction", "NO ACTION"),
]  # fmt: skip

FORWARD = "\n".join(
    f"ALTER TABLE {table} ADD CONSTRAINT {name} FOREIGN KEY ({columns}) "
    f"REFERENCES {target} (customer_id, id) ON DELETE {on_delete} DEFERRABLE INITIALLY DEFERRED;"
    for table, name, columns, target, on_delete in COMPOSITE_KEYS
)
BACKWARD = "\n".join(f"ALTER TABLE {table} DROP CONSTRAINT {name};" for table, name, *_ in COMPOSITE_KEYS)


def default_costs(apps, schema_editor):
    from channels.models.config import DEFAULT_COSTS

    ChannelCost = apps.get_model("channels", "ChannelCost")
    for channel, amount in DEFAULT_COSTS.items():
        ChannelCost.objects.get_or_create(channel=str(channel), defaults={"amount": amount})


class Migration(migrations.Migration):
    dependencies = [("channels", "0001_initial"), ("customers", "0005_drop_redundant_contact_index")]

    operations = [
        migrations.RunSQL(FORWARD, BACKWARD),
        migrations.RunPython(default_costs, migrations.RunPython.noop),
    ]

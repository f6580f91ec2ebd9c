"""The consent ledger is append-only: PostgreSQL refuses UPDATE and DELETE on it.

Two maintenance operations are let through, each only when the transaction declares it with
``SET LOCAL relais.consent_maintenance = ...`` and only for the columns it may change:
``merge`` re-points rows to the surviving customer, ``erase`` blanks the proof's personal data.
TRUNCATE is left to the table's owner (the test suite's flush uses it); production's application
role should not own the tables.
"""

from django.db import migrations

GUARD = """
CREATE FUNCTION customers_consent_guard() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    maintenance text := coalesce(current_setting('relais.consent_maintenance', true), '');
BEGIN
    IF TG_OP = 'UPDATE' THEN
        IF maintenance = 'merge'
           AND (NEW.channel, NEW.purpose, NEW.status, NEW.source, NEW.occurred_at, NEW.proof_text,
                NEW.ip_address, NEW.user_agent, NEW.agent_id, NEW.recorded_at)
               IS NOT DISTINCT FROM
               (OLD.channel, OLD.purpose, OLD.status, OLD.source, OLD.occurred_at, OLD.proof_text,
                OLD.ip_address, OLD.user_agent, OLD.agent_id, OLD.recorded_at) THEN
            RETURN NEW;
        END IF;
        IF maintenance = 'erase'
           AND (NEW.customer_id, NEW.channel, NEW.purpose, NEW.status, NEW.source, NEW.occurred_at,
                NEW.agent_id, NEW.recorded_at)
               IS NOT DISTINCT FROM
               (OLD.customer_id, OLD.channel, OLD.purpose, OLD.status, OLD.source, OLD.occurred_at,
                OLD.agent_id, OLD.recorded_at) THEN
            RETURN NEW;
        END IF;
    END IF;
    RAISE EXCEPTION 'the consent ledger is append-only: % refused on customers_consent', TG_OP
        USING ERRCODE = 'integrity_constraint_violation',
              HINT = 'Record a new consent entry instead.';
END;
$$;
CREATE TRIGGER customers_consent_append_only
    BEFORE UPDATE OR DELETE ON customers_consent
    FOR EACH ROW EXECUTE FUNCTION customers_consent_guard();
"""

UNDO = """
DROP TRIGGER customers_consent_append_only ON customers_consent;
DROP FUNCTION customers_consent_guard();
"""


class Migration(migrations.Migration):
    dependencies = [("customers", "0001_initial")]

    operations = [migrations.RunSQL(GUARD, UNDO)]

from django.contrib.auth.models import Group


def test_it_creates_the_four_roles_with_permissions(db):
    assert set(Group.objects.values_list("name", flat=True)) >= {"Agent", "Supervisor", "Marketer", "Admin"}
    agent = Group.objects.get(name="Agent")
    assert agent.permissions.filter(codename="use_agent_console").exists()
    assert not agent.permissions.filter(codename="view_operations").exists()

# An agency that lets the security team's account inspect images and servers in one region. One
# system-role name is misspelt ("IMS ReadOnlyAcess") and one is a former name ("ECS Viewer", now
# ECS ReadOnlyAccess): the provider can skip a name it cannot find without an error.

resource "huaweicloud_identity_agency" "security_audit" {
  name                  = "security-audit"
  description           = "Read-only access for the security team's account"
  delegated_domain_name = "acme-security"

  project_role {
    project = "cn-north-4"
    roles   = ["IMS ReadOnlyAcess", "ECS Viewer"]
  }
}

resource "huaweicloud_identity_agency" "a" {
  name                  = "a"
  delegated_domain_name = "other"
  dynamic "project_role" {
    for_each = range(1000000)
    content {
      project = "cn-north-4"
      roles   = [project_role.value, project_role.nope]
    }
  }
  dynamic "project_role" {
    for_each = project_role
    iterator = 42
    content {}
  }
}

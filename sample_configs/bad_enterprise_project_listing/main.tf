# An auditor role meant to list images through the OpenStack-native API, assigned through an
# enterprise project. GET /v2/images cannot be granted at enterprise-project scope.

variable "audit_enterprise_project_id" {
  type    = string
  default = "0aa6b1f4-7b4c-4e4b-9b7e-0d5c1ab3c2f1"
}

resource "huaweicloud_identity_group" "auditors" {
  name = "image-auditors"
}

# iac-ims:intent native_list_images
resource "huaweicloud_identity_role" "image_lister" {
  name        = "image-lister"
  description = "List images with the OpenStack-native API"
  type        = "XA"
  policy = jsonencode({
    Version = "1.1"
    Statement = [{
      Effect = "Allow"
      Action = ["ims:images:list"]
    }]
  })
}

resource "huaweicloud_identity_group_role_assignment" "auditors_ep" {
  group_id              = huaweicloud_identity_group.auditors.id
  role_id               = huaweicloud_identity_role.image_lister.id
  enterprise_project_id = var.audit_enterprise_project_id
}

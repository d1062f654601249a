# IMS302 (bad): a role meant to list images through GET /v2/images (native_list_images), assigned
# through an enterprise project. That API cannot be granted at enterprise-project scope.

variable "enterprise_project_id" {
  type    = string
  default = "0aa6b1f4-7b4c-4e4b-9b7e-0d5c1ab3c2f1"
}

resource "huaweicloud_identity_group" "image_team" {
  name = "image-team"
}

# iac-ims:intent native_list_images
resource "huaweicloud_identity_role" "image_operator" {
  name        = "image-operator"
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

resource "huaweicloud_identity_group_role_assignment" "image_team" {
  group_id = huaweicloud_identity_group.image_team.id
  role_id  = huaweicloud_identity_role.image_operator.id
  enterprise_project_id = var.enterprise_project_id
}

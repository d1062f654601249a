# IMS304 (bad): a role meant for GET /v1.1/images/detail (native_v1_list_images_detail), a
# deprecated API that may be removed.

variable "project_id" {
  type    = string
  default = "0a1b2c3d4e5f40718293a4b5c6d7e8f9"
}

resource "huaweicloud_identity_group" "image_team" {
  name = "image-team"
}

# iac-ims:intent native_v1_list_images_detail
resource "huaweicloud_identity_role" "image_operator" {
  name        = "image-operator"
  description = "List images for the inventory job"
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
  project_id = var.project_id
}

# IMS902 (good): the same role with its policy file kept inside the scanned tree.

variable "project_id" {
  type    = string
  default = "0a1b2c3d4e5f40718293a4b5c6d7e8f9"
}

resource "huaweicloud_identity_group" "image_viewers" {
  name = "image-viewers"
}

resource "huaweicloud_identity_role" "image_viewer" {
  name        = "image-viewer"
  description = "List and show images"
  type        = "XA"
  policy      = file("${path.module}/policies/image-viewer.json")
}

resource "huaweicloud_identity_group_role_assignment" "image_viewers_project" {
  group_id   = huaweicloud_identity_group.image_viewers.id
  role_id    = huaweicloud_identity_role.image_viewer.id
  project_id = var.project_id
}

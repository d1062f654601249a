# The image roles of a project, assigned to one group.

variable "project_id" {
  type = string
}

variable "group_id" {
  type = string
}

resource "huaweicloud_identity_role" "image_viewer" {
  name        = "image-viewer"
  description = "List and show images"
  type        = "XA"
  policy = jsonencode({
    Version   = "1.1"
    Statement = [{ Effect = "Allow", Action = ["ims:images:list", "ims:images:get"] }]
  })
}

resource "huaweicloud_identity_group_role_assignment" "image_viewer" {
  group_id   = var.group_id
  role_id    = huaweicloud_identity_role.image_viewer.id
  project_id = var.project_id
}

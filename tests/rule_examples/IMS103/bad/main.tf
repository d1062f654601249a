# IMS103 (bad): a role mixing OBS (global-service) and IMS (project-level) actions, assigned in
# one project. At a project scope the OBS actions take no effect.

variable "project_id" {
  type    = string
  default = "0a1b2c3d4e5f40718293a4b5c6d7e8f9"
}

resource "huaweicloud_identity_group" "image_auditors" {
  name = "image-auditors"
}

resource "huaweicloud_identity_role" "image_auditor" {
  name        = "image-auditor"
  description = "List images and the buckets they are exported to"
  type        = "XA"
  policy = jsonencode({
    Version = "1.1"
    Statement = [{
      Effect = "Allow"
      Action = ["ims:images:list", "ims:images:get", "obs:bucket:ListAllMyBuckets", "obs:bucket:ListBucket"]
    }]
  })
}

resource "huaweicloud_identity_group_role_assignment" "image_auditors" {
  group_id   = huaweicloud_identity_group.image_auditors.id
  role_id    = huaweicloud_identity_role.image_auditor.id
  project_id = var.project_id
}

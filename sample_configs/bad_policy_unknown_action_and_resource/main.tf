# A tagging role written by analogy with other services: "ims:images:tag" is no IMS action
# (tagging needs ims:images:update), and the Resource meant to limit it to the team's images
# cannot restrict IMS actions (IMS has no resource-level authorization).

variable "project_id" {
  type    = string
  default = "0a1b2c3d4e5f40718293a4b5c6d7e8f9"
}

resource "huaweicloud_identity_group" "finops" {
  name        = "finops"
  description = "Tags images with cost centres"
}

resource "huaweicloud_identity_role" "image_tagger" {
  name        = "image-tagger"
  description = "Tag the team's images with cost centres"
  type        = "XA"
  policy = jsonencode({
    Version = "1.1"
    Statement = [{
      Effect   = "Allow"
      Action   = ["ims:images:list", "ims:images:tag"]
      Resource = ["ims:*:*:image:team-*"]
    }]
  })
}

resource "huaweicloud_identity_group_role_assignment" "finops_project" {
  group_id   = huaweicloud_identity_group.finops.id
  role_id    = huaweicloud_identity_role.image_tagger.id
  project_id = var.project_id
}

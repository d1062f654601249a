# IMS203 (bad): a custom image role that nothing assigns (the assignment was never written):
# it grants nothing to anyone.

resource "huaweicloud_identity_group" "image_auditors" {
  name = "image-auditors"
}

resource "huaweicloud_identity_role" "image_auditor" {
  name        = "image-auditor"
  description = "List and show images for the audit team"
  type        = "XA"
  policy = jsonencode({
    Version   = "1.1"
    Statement = [{ Effect = "Allow", Action = ["ims:images:list", "ims:images:get"] }]
  })
}

# IMS904 (bad): a skip comment meant for IMS203 names "IMS2O3" (a letter O for the zero). No rule
# has that ID, so the comment suppresses nothing; iac-ims reports it instead of ignoring it.

resource "huaweicloud_identity_role" "image_break_glass" {
  # iac-ims:skip=IMS2O3:break-glass role, assigned by hand during incidents only
  name        = "image-break-glass"
  description = "Emergency access: list and delete images"
  type        = "XA"
  policy = jsonencode({
    Version   = "1.1"
    Statement = [{ Effect = "Allow", Action = ["ims:images:list", "ims:images:delete"] }]
  })
}

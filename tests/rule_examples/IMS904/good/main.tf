# IMS904 (good): the same comment naming IMS203: the unassigned break-glass role is suppressed
# with its reason.

resource "huaweicloud_identity_role" "image_break_glass" {
  # iac-ims:skip=IMS203:break-glass role, assigned by hand during incidents only
  name        = "image-break-glass"
  description = "Emergency access: list and delete images"
  type        = "XA"
  policy = jsonencode({
    Version   = "1.1"
    Statement = [{ Effect = "Allow", Action = ["ims:images:list", "ims:images:delete"] }]
  })
}

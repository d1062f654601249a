"""What iac-ims says about real public Terraform (`../shared/realworld`), folder by folder.

Each finding below was read as the folder's owner would read it and is true and worth saying:
- 09, 11: a custom role of another workspace (a data source) whose grants only the cloud knows;
- 25: a local module path that moved upstream (Terraform fails), IMS903;
- 33: an AX auditor role whose ECS/EVS/VPC... reads take no effect at global-service scope, IMS103;
- 39: wrapper modules nobody calls (their inputs unset, once per module), and usage snippets
  whose module path does not exist where they are;
- 41: a file whose variable is declared nowhere (Terraform rejects it).
Everything else deploys and is silent: real system-role names, 17-statement policies, nullable
inputs, upper-case OBS prefixes and one IMS901 per module instance are no longer reported.
A change in either direction fails here: a new finding must be argued for, a lost one explained.
"""

from __future__ import annotations

import csv

import pytest
from conftest import FIXTURES, REALWORLD, REALWORLD_ABSENT

from iac_ims.pipeline import ScanOptions, scan

ROLES_TSV = FIXTURES / "system-roles.tsv"
pytestmark = pytest.mark.skipif(not REALWORLD.is_dir(), reason=REALWORLD_ABSENT)

# (rule, severity, file relative to the scanned folder, line, resource) of every finding
EXPECTED: dict[str, list[tuple]] = {
    '01_huaweicloud_terraform-provider-huaweicloud_examples-iam-users-authorized-through-group': [
    ],
    '03_huaweicloud_terraform-provider-huaweicloud_examples-iam-basic': [
    ],
    '05_huaweicloud_terraform-provider-huaweicloud_examples-fgs-obs-download': [
    ],
    '07_huaweicloud_terraform-provider-huaweicloud_issue-1289-resource-uri': [
    ],
    '09_Huawei-APAC-Professional-Services_hfa-workshop_HFA-IAM': [
        ('IMS901', 'info', 'HFA_OBS_Backend.tf', 2, 'data.huaweicloud_identity_custom_role.hfa_state_kms'),
    ],
    '11_Huawei-APAC-Professional-Services_hfa_HFA-IAM-obsbackend': [
        ('IMS901', 'info', 'HFA_OBS_Backend.tf', 2, 'data.huaweicloud_identity_custom_role.hfa_state_kms'),
    ],
    '13_Huawei-APAC-Professional-Services_terraform-module_hfa-iam': [
    ],
    '15_Huawei-APAC-Professional-Services_terraform-module_iam-agencies': [
    ],
    '17_Huawei-APAC-Professional-Services_codearts-pipeline-agent-on-demand_root': [
    ],
    '19_MarcLan_SPW_hfa-iam-playbook': [
    ],
    '21_hwcloud-apac-pso_HFA-Automation-Terraform_terraform-hwcloud-cts-centralized': [
    ],
    '23_alejandromore_jenkins_tdp-cce-terraform-workload-identity': [
    ],
    '25_alejandromore_jenkins_tdp-cce-old-secrets-store': [
        ('IMS903', 'error', 'tdp-config-catalog-cce/old/terraform/secrets-store/main.tf', 180, 'module.dew_secret'),
    ],
    '27_alejandromore_jenkins_terraform-modules-agencies': [
    ],
    '29_AutoMQ_terraform-huaweicloud-automq-byoc-environment_root': [
    ],
    '31_artifactsystems_terraform-huawei-iam_root': [
    ],
    '33_grcwarlock_warlock_terraform-modules-iam-huawei-iam': [
        ('IMS103', 'warning', 'terraform/modules/iam/huawei-iam/main.tf', 34, 'huaweicloud_identity_role.auditor'),
    ],
    '35_Menezes-G_hwc-ecs-secmaster_huaweicloud-ecs-secmaster': [
    ],
    '37_huaweicloud-latam_knowledge-base_docs-iam-agency-md': [
    ],
    '39_niveklabs_flexibleengine_r-identity-v3-wrappers': [
        ('IMS901', 'info', 'r/flexibleengine_identity_role_assignment_v3/variables.tf', 1, None),
        ('IMS901', 'info', 'r/flexibleengine_identity_role_v3/variables.tf', 16, None),
        ('IMS903', 'error', 'r/flexibleengine_identity_agency_v3/usage/module.tf', 2, 'module.flexibleengine_identity_agency_v3'),
        ('IMS903', 'error', 'r/flexibleengine_identity_role_assignment_v3/usage/module.tf', 2, 'module.flexibleengine_identity_role_assignment_v3'),
        ('IMS903', 'error', 'r/flexibleengine_identity_role_v3/usage/module.tf', 2, 'module.flexibleengine_identity_role_v3'),
    ],
    '41_UNATTRIBUTED_ru-smn-agency-indented-heredoc': [
        ('IMS903', 'error', 'main.tf', 3, 'huaweicloud_identity_role.smn_role'),
        ('IMS903', 'error', 'main.tf', 27, 'huaweicloud_identity_agency.identity_agency'),
    ],
    '19_MarcLan_SPW_hfa-iam-playbook/hfa-core-account-playbook/4.hfa-iam-playbook': [
    ],
    '23_alejandromore_jenkins_tdp-cce-terraform-workload-identity/tdp-config-catalog-cce/terraform/workload-identity': [
    ],
    '25_alejandromore_jenkins_tdp-cce-old-secrets-store/tdp-config-catalog-cce/old/terraform/secrets-store': [
        ('IMS903', 'error', 'main.tf', 180, 'module.dew_secret'),
    ],
    '31_artifactsystems_terraform-huawei-iam_root/examples/simple': [
    ],
    '31_artifactsystems_terraform-huawei-iam_root/examples/custom-policy': [
    ],
    '33_grcwarlock_warlock_terraform-modules-iam-huawei-iam/terraform/modules/iam/huawei-iam': [
        ('IMS103', 'warning', 'main.tf', 34, 'huaweicloud_identity_role.auditor'),
    ],
}


def _scan(folder: str):
    return scan([REALWORLD / folder], ScanOptions(relative_to=REALWORLD / folder))


@pytest.mark.parametrize("folder", sorted(EXPECTED))
def test_findings_of_each_folder(folder: str) -> None:
    report = _scan(folder)
    found = sorted((f.rule_id, f.severity, f.file, f.line, f.resource) for f in report.findings)
    assert found == sorted(EXPECTED[folder]), "\n".join(f"{f.rule_id} {f.file}:{f.line} {f.message}"
                                                      for f in report.findings)
    assert not report.internal_errors


def test_every_folder_is_in_the_table() -> None:
    folders = {p.name for p in REALWORLD.iterdir() if p.is_dir()}
    assert folders <= set(EXPECTED)


def _listed_names() -> set[str]:
    with ROLES_TSV.open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle, delimiter="\t"))
    return {row["display_name"] for row in rows} | {row["internal_name"] for row in rows if row["internal_name"]}


def test_what_no_folder_may_show() -> None:
    """No IMS204 naming a listed system role or an empty name, no IMS102 on another service, at
    most one IMS901 per block and cause."""
    listed = _listed_names()
    for folder in EXPECTED:
        report = _scan(folder)
        for finding in report.findings:
            if finding.rule_id == "IMS204":
                named = finding.evidence[-1]
                assert named.strip() and named not in listed, (folder, finding.message)
            if finding.rule_id == "IMS102":
                assert all(a.lower().startswith("ims:") for a in finding.evidence[1:] if ":" in a), finding.message
        unresolved = [(f.file, f.line, f.message) for f in report.findings if f.rule_id == "IMS901"]
        assert len(unresolved) == len(set(unresolved)), folder


def test_what_the_findings_say() -> None:
    auditor = _scan("33_grcwarlock_warlock_terraform-modules-iam-huawei-iam").findings
    message = next(f.message for f in auditor if f.rule_id == "IMS103")
    assert '"ecs:*:get*"' in message and "global services" in message and "obs:" not in message.split("effect:")[1]
    kms = _scan("09_Huawei-APAC-Professional-Services_hfa-workshop_HFA-IAM").findings
    assert "'hfa_terraform_kms'" in kms[0].message and "another workspace" in kms[0].message
    wrappers = _scan("39_niveklabs_flexibleengine_r-identity-v3-wrappers").findings
    inputs = next(f.message for f in wrappers if f.rule_id == "IMS901" and "assignment" in f.file)
    assert "var.domain_id, var.project_id, var.role_id" in inputs

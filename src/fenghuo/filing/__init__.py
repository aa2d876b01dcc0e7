"""Filing (备案, CN-TC-30; CN-TC-12, CN-PO-12): the attachments a CAC filing asks for, exported
from what fenghuo holds — the safety self-assessment report (附件1, from an evaluation run), the
intercept keyword list (附件4, the lexicon the checks use) and the evaluation question set
(附件5, the run's drawn questions) — with the service's and its base model's filing numbers in
the package manifest. The service agreement (附件2) and annotation rules (附件3) are the
provider's documents; the manifest lists them as missing rather than inventing them.
"""

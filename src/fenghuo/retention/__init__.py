"""Retention (留存): logs and records kept at least six months (CN-PO-20 网络安全法 Art.21(3);
CN-LB-18 labelling logs; EU-06 AI Act Art.19/26(6)).

``policy.py`` holds the number and the one rule pruning obeys (nothing younger than the
retention period is ever deleted); ``status.py`` says, store by store, what is kept and since
when; ``prune.py`` deletes old files of the stores that may be pruned. The ledger is never
pruned: it is a hash chain, and its export and checkpoints are what an auditor keeps.
It sits above every domain because it reads all of them.
"""

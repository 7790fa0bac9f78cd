"""The AWS driver's parts, one concern per module.

    session.py      boto3 sessions and clients per region (AWS_ENDPOINT_URL honoured, no global default session,
                    assumed-role credentials refreshed before they expire)
    guardrails.py   the account and region checks made before any mutating call
    calls.py        the call recorder: dry-run listing, ``aws-calls.jsonl`` and the in-flight revert record
    az_outage.py    AZ outage: NACL blackhole, EC2/ASG stop, EKS cordon, Aurora writer out of the AZ (or FIS)
    pods.py         Kubernetes clients per context, pod kill, cordon/uncordon
    aurora.py       in-region writer failover, global switchover/failover, waits
    traffic.py      Global Accelerator traffic dials (every listener of the accelerator)
    zonal_shift.py  ARC zonal shift away from an AZ (a remediation step) and its cancel
    observe.py      the observers, producing ``aftershock.faults.driver.Observation``
    credentials.py  the writer conninfo for the RPO ledger (password never printed)
"""

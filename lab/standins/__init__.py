"""The lab's AWS API endpoints: one stand-in server per region, and the replicator between them.

Each region gets one server process (:mod:`~aftershock.lab.standins.server`): moto's AWS API on 127.0.0.1, so the
same boto3 code runs against the lab and against AWS (DynamoDB and S3 today; any service moto serves, e.g.
cognito-idp, answers on the same endpoint). The server keeps a change log of its DynamoDB and S3 writes; the
:mod:`~aftershock.lab.standins.replicator` ships them to the other region with AWS's semantics (global tables:
asynchronous, last writer wins per item; S3 replication: asynchronous per object, delete markers per the
replication configuration). :class:`~aftershock.lab.standins.standins.StandIns` owns both for the lab.
"""

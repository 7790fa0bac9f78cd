"""Identity in the lab: a Cognito user pool per region on the AWS stand-ins, and the seed's replication of users.

:class:`~aftershock.lab.identity.part.LabIdentity` (owned by the Lab) creates one user pool and app client per
region on the region's stand-in server (moto's ``cognito-idp``, the same API as Cognito) and runs the seed's
replication (:mod:`~aftershock.lab.identity.replication`): a periodic export of users and groups to a DynamoDB
global table, and an import from the standby's replica of that table into the standby pool. Passwords do not
travel: imported users need the migration path the settings declare (``reset``).
"""

"""Open Badges 3.0 credentials for certificates: keys, the credential, its status list, verification.

A valid certificate can be downloaded as an ``OpenBadgeCredential`` (W3C VC 2.0 data model) secured
as a VC-JOSE compact JWS (``application/vc+jwt``, ES256). The credential is built from the
certificate's frozen facts (the same snapshot the PDF prints), stored once, and its status
(valid, or revoked/superseded) is published in a signed Bitstring Status List credential derived
from the certificates' own status, so the two cannot disagree.

Modules: ``badge`` and ``status_list`` are pure builders (no Flask, no database); ``keys`` holds
the signing keys; ``jose`` signs and parses; ``issue`` creates the stored credential; ``verify``
checks a pasted credential; ``cli`` is ``flask imh credentials keys …``.
"""

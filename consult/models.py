"""Imports every domain's models so that the metadata is complete (Alembic, tests)."""

from consult.audit import models as _audit  # noqa: F401
from consult.auth import models as _auth  # noqa: F401
from consult.communes import models as _communes  # noqa: F401
from consult.consultations import models as _consultations  # noqa: F401
from consult.covenants import models as _covenants  # noqa: F401
from consult.documents import models as _documents  # noqa: F401
from consult.jobs import models as _jobs  # noqa: F401
from consult.mail import models as _mail  # noqa: F401
from consult.opinions import models as _opinions  # noqa: F401
from consult.polls import models as _polls  # noqa: F401
from consult.proposals import models as _proposals  # noqa: F401
from consult.publication import models as _publication  # noqa: F401
from consult.reports import models as _reports  # noqa: F401
from consult.db import Base

metadata = Base.metadata

"""Every table of every domain, imported so the shared metadata is complete (for Alembic's
autogenerate, ``fenghuo/migrations/env.py``, and tests). This is assembly: it sits at the top
beside ``api/`` and ``cli.py``, and no domain imports it. A domain that adds tables adds one
line here."""

from fenghuo.alerts import models as _alerts  # noqa: F401
from fenghuo.control import instance_models as _instances  # noqa: F401
from fenghuo.control import models as _control  # noqa: F401
from fenghuo.control import user_measure_models as _user_measures  # noqa: F401
from fenghuo.guard import label_waivers as _label_waivers  # noqa: F401
from fenghuo.ledger import models as _ledger  # noqa: F401
from fenghuo.monitor import models as _monitor  # noqa: F401
from fenghuo.platform import auth as _auth  # noqa: F401
from fenghuo.platform.db import Base
from fenghuo.recovery import models as _recovery  # noqa: F401
from fenghuo.registry import models as _registry  # noqa: F401
from fenghuo.response import models as _response  # noqa: F401
from fenghuo.scale import models as _scale  # noqa: F401

metadata = Base.metadata

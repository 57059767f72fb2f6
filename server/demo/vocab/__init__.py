"""Word lists and archetypes for the synthetic demo catalog (see ``server.demo.generator``).

Everything here is plain, immutable data, one module per subject (``genres``, ``tags``,
``places``, ``people``, ``archetypes``): genres, the tag vocabulary, countries with their
languages and cities, the name parts the generator combines into invented people, and the
micro-genre ``ARCHETYPES`` every title is drawn from. To add a micro-genre, append an
``Archetype`` to ``ARCHETYPES``; ``generator.validate_archetypes()`` (run at import) checks it.

Keep lists append-only where possible: the generator draws by index, so reordering or
removing entries changes every catalog generated from a given seed.
"""

from server.demo.vocab.archetypes import *  # noqa: F403
from server.demo.vocab.genres import *  # noqa: F403
from server.demo.vocab.people import *  # noqa: F403
from server.demo.vocab.places import *  # noqa: F403
from server.demo.vocab.tags import *  # noqa: F403

"""
What the provider tells Airflow about the data it moves: asset events, hook lineage, OpenLineage.

:mod:`.facts` describes a finished run (the Atlas source, the files it wrote); :mod:`.assets`
declares and fills the outlets, :mod:`.hook_lineage` reports to Airflow's hook lineage
collector and :mod:`.openlineage` builds the OpenLineage facets (importing the optional
provider only when called). Operators call these after they succeed; docs/lineage.md has the rules.
"""

from __future__ import annotations

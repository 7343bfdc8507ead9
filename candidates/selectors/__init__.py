"""Reads of the candidates domain, scoped to what the user may see, with joins applied.

One module per topic: nominations (before admission), their outcomes, cohorts, the staff
dashboard, the staff exports. Import the names from here.
"""

from .cohorts import (
    RUN_REQUEST_TIMEOUT,
    CohortResultRecipients,
    CohortRunState,
    cohort_get_for_round,
    cohort_result_recipients,
    cohort_run_list,
    cohort_run_requested,
    cohort_run_state,
    scoring_weights_get_for_round,
)
from .dashboard import (
    audit_for_round,
    cohort_approval_summary,
    cohort_review_details,
    cohort_review_rows,
    round_overview,
    round_timeline,
    staff_round_list,
    whatif_compare,
)
from .exports import EXPORT_TABLES, cohort_table, tracks_table, universities_table
from .nominations import (
    admitted_nominations,
    api_tokens_for_user,
    coordinator_for_user,
    coordinator_list_for_university,
    document_get_for_user,
    nomination_get_for_user,
    nomination_list_for_user,
    required_documents,
    round_get_for_coordinator,
    round_list_for_coordinator,
    round_tracks,
)
from .outcomes import (
    DECIDED_OUTCOMES,
    NominationOutcome,
    OutcomeCode,
    nomination_outcomes,
    outcome_annotate,
    round_results_by_university,
)
from .whatif import (
    whatif_changes,
    whatif_list_for_round,
    whatif_round_tracks,
    whatif_rows,
    whatif_track_rows,
)

__all__ = [
    "DECIDED_OUTCOMES",
    "EXPORT_TABLES",
    "RUN_REQUEST_TIMEOUT",
    "CohortResultRecipients",
    "CohortRunState",
    "NominationOutcome",
    "OutcomeCode",
    "admitted_nominations",
    "api_tokens_for_user",
    "audit_for_round",
    "cohort_approval_summary",
    "cohort_get_for_round",
    "cohort_result_recipients",
    "cohort_review_details",
    "cohort_review_rows",
    "cohort_run_list",
    "cohort_run_requested",
    "cohort_run_state",
    "cohort_table",
    "coordinator_for_user",
    "coordinator_list_for_university",
    "document_get_for_user",
    "nomination_get_for_user",
    "nomination_list_for_user",
    "nomination_outcomes",
    "outcome_annotate",
    "required_documents",
    "round_get_for_coordinator",
    "round_list_for_coordinator",
    "round_overview",
    "round_results_by_university",
    "round_timeline",
    "round_tracks",
    "scoring_weights_get_for_round",
    "staff_round_list",
    "tracks_table",
    "universities_table",
    "whatif_changes",
    "whatif_compare",
    "whatif_list_for_round",
    "whatif_round_tracks",
    "whatif_rows",
    "whatif_track_rows",
]

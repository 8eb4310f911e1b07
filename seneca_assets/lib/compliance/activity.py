"""What Marcus and its agents did in the period: the audit trail and the decisions."""

from __future__ import annotations

from seneca_assets.lib.compliance.section import (
    Context,
    Counted,
    Evidence,
    Section,
    Topic,
    count,
    first_row,
    when,
)
from seneca_assets.lib.model.tables import DECISIONS, SYSTEM_EVENTS

TOP_ROWS = 20
"""Rows of a ranked table; the totals query beside it counts everything."""

AUDIT_TOTALS = """SELECT count(*) AS events,
       count(DISTINCT actor) AS actors,
       count(*) FILTER (WHERE category = 'audit') AS audit,
       count(*) FILTER (WHERE category = 'error') AS errors,
       count(*) FILTER (WHERE event_type = 'access_denied') AS denials,
       count(*) FILTER (WHERE success = false) AS raised,
       count(*) FILTER (WHERE category IN ('debug', 'performance')) AS operational,
       min(event_time) AS first_event,
       max(event_time) AS last_event,
       (SELECT count(*) FROM ops_audit_retired
        WHERE event_time >= $1 AND event_time < $2) AS retired_since
FROM silver_system_events
WHERE event_time >= $1 AND event_time < $2"""

AUDIT_BY_DAY = """SELECT CAST(event_time AT TIME ZONE 'UTC' AS DATE) AS day,
       count(*) AS events,
       count(DISTINCT actor) AS actors,
       count(*) FILTER (WHERE category = 'audit') AS audit,
       count(*) FILTER (WHERE category = 'error') AS errors,
       count(*) FILTER (WHERE event_type = 'access_denied') AS denials
FROM silver_system_events
WHERE event_time >= $1 AND event_time < $2
GROUP BY day
ORDER BY day
LIMIT 400"""

AUDIT_BY_ACTOR = f"""SELECT actor, action, category,
       count(*) AS events,
       count(*) FILTER (WHERE success = false) AS raised,
       min(event_time) AS first_event,
       max(event_time) AS last_event
FROM silver_system_events
WHERE event_time >= $1 AND event_time < $2 AND category IN ('audit', 'error')
GROUP BY actor, action, category
ORDER BY events DESC, actor NULLS LAST, action NULLS LAST, category
LIMIT {TOP_ROWS}"""

AUDIT_FAILURES = f"""SELECT event_time, actor, action, event_type, left(error, 200) AS error
FROM silver_system_events
WHERE event_time >= $1 AND event_time < $2
  AND (category = 'error' OR event_type = 'access_denied')
ORDER BY event_time DESC, event_id
LIMIT {TOP_ROWS}"""


AUDIT_TRAIL = Topic(
    "audit-trail",
    "Audit trail: actions taken and when",
    "What actions were taken in the period, by whom, and when? Which failed or were denied?",
)


@Counted(
    AUDIT_TRAIL, SYSTEM_EVENTS, AUDIT_TOTALS, "no audit or server event was ever modelled.",
    "No audit or server event in this period is in silver/system_events (any that retention "
    "has deleted since are counted as retired_since).",
)  # fmt: skip
def audit_trail(ctx: Context, totals: Evidence) -> Section:
    """What actions were taken, by whom, and when: silver/system_events in the period."""
    t = first_row(totals)
    by_actor = ctx.ask(
        f"The {TOP_ROWS} most frequent audited actions (audit and error events) by actor",
        AUDIT_BY_ACTOR,
    )
    answer = (
        f"{count(t['events'])} audit and server events by {count(t['actors'])} actors, from "
        f"{when(t['first_event'])} to {when(t['last_event'])}: {count(t['audit'])} audit "
        f"events and {count(t['errors'])} errors (of which {count(t['denials'])} access "
        f"denials; {count(t['raised'])} calls raised an exception), besides "
        f"{count(t['operational'])} debug and performance events."
    )
    if t["retired_since"]:
        answer += (
            f" A further {count(t['retired_since'])} events of the period have since been "
            "deleted by retention policy (recorded in ops/audit_retired, so the chain still "
            "verifies); they are not in the figures above."
        )
    if by_actor.frame.height:
        top = first_row(by_actor)
        answer += (
            f" The most frequent audited action: {top['actor'] or '(no actor)'} "
            f"{top['action'] or '(no action)'} ({count(top['events'])} times)."
        )
    per_day = ctx.ask("Per day", AUDIT_BY_DAY)
    failures = ctx.ask(f"The {TOP_ROWS} latest errors and denials", AUDIT_FAILURES)
    return AUDIT_TRAIL.answer(answer, totals, per_day, by_actor, failures)


DECISION_TOTALS = """SELECT count(*) AS decisions,
       count(DISTINCT agent_id) AS agents,
       count(DISTINCT call_site_id) AS call_sites,
       count(*) FILTER (WHERE length(rationale) > 0) AS with_rationale,
       count(*) FILTER (WHERE confidence_is_placeholder) AS placeholder_confidence,
       count(confidence) FILTER (WHERE NOT confidence_is_placeholder) AS judged_confidence,
       round(avg(confidence) FILTER (WHERE NOT confidence_is_placeholder), 3)
           AS mean_judged_confidence
FROM silver_decisions
WHERE event_time >= $1 AND event_time < $2"""

DECISIONS_BY_AGENT = f"""SELECT agent_id,
       left(any_value(call_site), 120) AS call_site,
       count(*) AS decisions,
       count(*) FILTER (WHERE length(rationale) > 0) AS with_rationale,
       count(*) FILTER (WHERE confidence_is_placeholder) AS placeholder_confidence,
       round(avg(confidence) FILTER (WHERE NOT confidence_is_placeholder), 3)
           AS mean_judged_confidence,
       min(event_time) AS first_decision,
       max(event_time) AS last_decision
FROM silver_decisions
WHERE event_time >= $1 AND event_time < $2
GROUP BY agent_id, call_site_id
ORDER BY decisions DESC, agent_id NULLS LAST, call_site
LIMIT {TOP_ROWS}"""

DECISION_SAMPLES = f"""SELECT event_time, agent_id, task_id,
       left(decision, 160) AS decision,
       left(rationale, 240) AS rationale,
       confidence,
       confidence_is_placeholder AS placeholder
FROM silver_decisions
WHERE event_time >= $1 AND event_time < $2
QUALIFY row_number() OVER (PARTITION BY call_site_id ORDER BY event_time DESC, decision_id) = 1
ORDER BY event_time DESC, decision_id
LIMIT {TOP_ROWS}"""


DECISIONS_TOPIC = Topic(
    "decisions",
    "Decisions: who decided what, and why",
    "Which decisions were made in the period, concerning whom, by which code path, with what "
    "rationale and confidence?",
)


@Counted(
    DECISIONS_TOPIC, DECISIONS, DECISION_TOTALS, "no PM decision was ever modelled.",
    "No decision was logged in this period.",
)  # fmt: skip
def decisions(ctx: Context, totals: Evidence) -> Section:
    """Who decided what and why: silver/decisions in the period, with rationale samples."""
    t = first_row(totals)
    made, placeholders, judged = (
        int(t[name] or 0)  # type: ignore[call-overload]
        for name in ("decisions", "placeholder_confidence", "judged_confidence")
    )
    mean = t["mean_judged_confidence"]
    answer = (
        f"Marcus (the PM) logged {made:,} decisions concerning {count(t['agents'])} agents, "
        f"made by {count(t['call_sites'])} code paths; {count(t['with_rationale'])} give a "
        f"rationale. Confidence: {placeholders:,} placeholders (a constant of the code path, not "
        f"a judgement), {judged:,} judged"
        + (f" (mean {mean:.3f})" if judged else "")
        + f", {made - placeholders - judged:,} missing."
    )
    by_agent = ctx.ask(
        f"The {TOP_ROWS} most frequent pairs of agent concerned and code path", DECISIONS_BY_AGENT
    )
    samples = ctx.ask(
        f"The latest decision of each code path ({TOP_ROWS} at most): rationale samples, "
        "placeholder confidences flagged",
        DECISION_SAMPLES,
    )
    return DECISIONS_TOPIC.answer(answer, totals, by_agent, samples)

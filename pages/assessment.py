"""Assessment: the questionnaire for what evidence cannot answer, waivers, and the
history of both for one team.

Only the rubric's attestation checks, and checks no source could decide that
have a question, are asked; each shows what was detected. Answers carry who,
when, a link to evidence and an expiry (180 days by default); waivers a reason
and an expiry. Saving writes through `data.entry` and the page reruns on the new
store version, so the scores shown (from `metrics.maturity`) include the answer.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta
from typing import Final

import pandas as pd
import streamlit as st
from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError

from data.entry import ATTESTATION_DAYS, MAX_EXPIRY_DAYS, add_attestation, add_waiver
from data.loaders import attestations, waivers
from metrics.maturity import PILLARS, CheckStatus, TeamScore
from metrics.rubric import load_rubric
from pages.access import can_edit, read_only_note, refused
from pages.common import (
    StoreKey,
    current_engine,
    no_teams_message,
    page_setup,
    period_caption,
    section,
    selected_period,
    store_key,
    table_height,
    team_picker,
    team_scores,
)
from pages.maturity_view import level_badge, score_text, status_badge

page_setup()

SAVED_KEY: Final = "_assessment_saved"
ERROR_KEY: Final = "_assessment_error"
WAIVER_ERROR_KEY: Final = "_assessment_waiver_error"
ANSWERS: Final = ("yes", "no")


def _known_check_ids() -> set[str]:
    return set(load_rubric().by_id)


def _asked(score: TeamScore) -> list[CheckStatus]:
    """What evidence cannot answer: attestation checks, and undecided checks with a question."""
    return [
        status
        for status in score.checks
        if status.check.evidence == "attestation"
        or (status.status == "unknown" and status.check.question)
    ]


def _refusal(exc: Exception) -> str:
    if isinstance(exc, SQLAlchemyError):
        reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
        return f"the store refused the write ({reason})"
    return str(exc)


def _save_answer(team: str, check_id: str) -> None:
    """A form's submit callback: it runs before the page, which then reads the new version."""
    if refused("answer the questionnaire"):
        return
    state = st.session_state
    answer = state.get(f"att_{check_id}_answer")
    if answer not in ANSWERS:
        state[ERROR_KEY] = (check_id, "answer yes or no")
        return
    try:
        add_attestation(
            current_engine(),
            team,
            check_id,
            answer == "yes",
            str(state.get(f"att_{check_id}_by") or ""),
            str(state.get(f"att_{check_id}_url") or ""),
            int(state.get(f"att_{check_id}_days") or ATTESTATION_DAYS),
            known_check_ids=_known_check_ids(),
        )
    except (ValueError, SQLAlchemyError) as exc:
        state[ERROR_KEY] = (check_id, _refusal(exc))
    else:
        state[SAVED_KEY] = f"Saved the answer “{answer}” to `{check_id}` for {team}."


def _save_waiver(team: str) -> None:
    if refused("waive checks"):
        return
    state = st.session_state
    check_id = str(state.get("waiver_check") or "")
    expires = state.get("waiver_expires")
    if not isinstance(expires, date):
        state[WAIVER_ERROR_KEY] = "give the date the waiver expires"
        return
    try:
        add_waiver(
            current_engine(),
            team,
            check_id,
            str(state.get("waiver_reason") or ""),
            str(state.get("waiver_by") or ""),
            expires,
            known_check_ids=_known_check_ids(),
        )
    except (ValueError, SQLAlchemyError) as exc:
        state[WAIVER_ERROR_KEY] = _refusal(exc)
    else:
        state[SAVED_KEY] = f"Waived `{check_id}` for {team} until {expires:%Y-%m-%d}."
        state["waiver_reason"] = ""


def _summary(score: TeamScore) -> None:
    columns = st.columns(len(PILLARS) + 1)
    for column, pillar in zip(columns[:-1], PILLARS, strict=True):
        with column:
            st.metric(pillar, score_text(score.pillars[pillar]))
            level_badge(score.pillars[pillar].level)
    with columns[-1]:
        st.metric("Overall level", str(score.overall_level))


def _question(team: str, status: CheckStatus, editable: bool) -> None:
    check = status.check
    label = f"{check.pillar} · {check.title} — {status.status} ({status.provenance})"
    with st.expander(label, icon=":material/help:"):
        st.markdown(f"**{check.question or check.title}**")
        st.caption(f"`{check.id}` · {check.pillar} · level {check.level} · {check.why}")
        badge, detected = st.columns([1, 6], vertical_alignment="center")
        with badge:
            status_badge(status.status)
        detected.markdown(f"Detected: {status.evidence} · provenance **{status.provenance}**")
        if not editable:
            return
        current = (
            {"pass": 0, "fail": 1}.get(status.status) if status.provenance != "stale" else None
        )
        with st.form(f"att_{check.id}_form", enter_to_submit=False, border=False):
            st.radio(
                "Answer",
                ANSWERS,
                index=current,
                horizontal=True,
                key=f"att_{check.id}_answer",
            )
            who, link, days = st.columns([2, 3, 1])
            who.text_input(
                "Your name or e-mail", key=f"att_{check.id}_by", placeholder="lead@acme.example"
            )
            link.text_input(
                "Link to evidence (optional)",
                key=f"att_{check.id}_url",
                placeholder="https://wiki.acme.example/runbooks/rollback",
            )
            days.number_input(
                "Expires in (days)",
                min_value=1,
                max_value=MAX_EXPIRY_DAYS,
                value=ATTESTATION_DAYS,
                step=30,
                key=f"att_{check.id}_days",
            )
            st.form_submit_button(
                "Save answer",
                type="primary",
                key=f"att_{check.id}_save",
                on_click=_save_answer,
                args=(team, check.id),
            )
        problem = st.session_state.get(ERROR_KEY)
        if problem and problem[0] == check.id:
            st.session_state.pop(ERROR_KEY)
            st.error(f"The answer was not saved: {problem[1]}.", icon=":material/error:")


def _questionnaire(team: str, score: TeamScore) -> None:
    st.subheader("Questionnaire")
    asked = _asked(score)
    st.caption(
        f"{len(asked)} question(s): the checks only a person can answer, and those no source "
        "could decide. Each shows what was detected; an answer counts until it expires "
        f"(default {ATTESTATION_DAYS} days)."
    )
    if not asked:
        st.success("Evidence decides every check: nothing to ask.", icon=":material/check:")
        return
    editable = can_edit()
    if not editable:
        st.caption(read_only_note("answer the questionnaire"))
    for status in asked:
        _question(team, status, editable)


def _waiver_form(team: str, score: TeamScore) -> None:
    st.subheader("Waive a check")
    open_checks = [s for s in score.checks if s.status in ("fail", "unknown")]
    if not open_checks:
        st.info("No failing or unknown check to waive.", icon=":material/check:")
        return
    if not can_edit():
        st.caption(read_only_note("waive checks"))
        return
    titles = {s.check.id: f"{s.check.id} — {s.check.title} ({s.status})" for s in open_checks}
    today = datetime.now(UTC).date()
    with st.form("waiver_form", enter_to_submit=False):
        st.selectbox("Check", list(titles), format_func=lambda i: titles[i], key="waiver_check")
        st.text_area(
            "Reason (required)",
            key="waiver_reason",
            placeholder="Not applicable: the model is batch-only, there is no endpoint.",
        )
        who, until = st.columns([3, 2])
        who.text_input("Waived by", key="waiver_by", placeholder="lead@acme.example")
        until.date_input(
            "Expires on (UTC)",
            value=today + timedelta(days=90),
            min_value=today + timedelta(days=1),
            max_value=today + timedelta(days=MAX_EXPIRY_DAYS),
            key="waiver_expires",
        )
        st.caption("A waived check leaves its pillar's score and does not block its level.")
        st.form_submit_button(
            "Save waiver", type="primary", key="waiver_save", on_click=_save_waiver, args=(team,)
        )
    problem = st.session_state.pop(WAIVER_ERROR_KEY, None)
    if problem:
        st.error(f"The waiver was not saved: {problem}.", icon=":material/error:")


@st.cache_data(show_spinner=False, max_entries=16)
def _history(_engine: Engine, key: StoreKey, team: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    return attestations(_engine, team), waivers(_engine, team)


def _yes_no(values: Sequence[bool]) -> list[str]:
    return ["yes" if value else "no" for value in values]


def _histories(team: str) -> None:
    answers, waived = _history(current_engine(), store_key(), team)
    now = pd.Timestamp(datetime.now(UTC))
    dates = {
        "When (UTC)": st.column_config.DatetimeColumn(format="YYYY-MM-DD HH:mm"),
        "Expires (UTC)": st.column_config.DatetimeColumn(format="YYYY-MM-DD HH:mm"),
        "Link": st.column_config.LinkColumn(),
    }
    st.subheader("Answers")
    if answers.empty:
        st.info("No answer yet for this team.", icon=":material/history:")
    else:
        answers = answers.sort_values("answered_at", ascending=False)
        shown = pd.DataFrame(
            {
                "Check": answers["check_id"],
                "Answer": _yes_no(answers["answer"].astype(bool).tolist()),
                "Who": answers["answered_by"],
                "When (UTC)": answers["answered_at"],
                "Expires (UTC)": answers["expires_at"],
                "Expired": _yes_no((answers["expires_at"] <= now).tolist()),
                "Link": answers["evidence_url"].replace("", None),
            }
        )
        st.dataframe(
            shown,
            hide_index=True,
            key="assessment_answers",
            column_config=dates,
            height=table_height(len(shown)),
        )
    st.subheader("Waivers")
    if waived.empty:
        st.info("No waiver for this team.", icon=":material/history:")
    else:
        waived = waived.sort_values("created_at", ascending=False)
        shown = pd.DataFrame(
            {
                "Check": waived["check_id"],
                "Reason": waived["reason"],
                "Who": waived["created_by"],
                "When (UTC)": waived["created_at"],
                "Expires (UTC)": waived["expires_at"],
                "Expired": _yes_no((waived["expires_at"] <= now).tolist()),
            }
        )
        st.dataframe(
            shown,
            hide_index=True,
            key="assessment_waivers",
            column_config=dates,
            height=table_height(len(shown)),
        )


st.title("Assessment")
period = selected_period()
team = team_picker("assessment_team")
if team is None:
    no_teams_message()
else:
    period_caption(period, team)
    saved = st.session_state.pop(SAVED_KEY, None)
    if saved:
        st.success(saved, icon=":material/check_circle:")
    st.caption(
        "Scores are judged as of the end of the selected period: an answer counts from the "
        "moment it is given, so choose a period that ends today to see it in them."
    )
    with section("The team's maturity"):
        (team_score,) = team_scores(period, [team])
        _summary(team_score)
    with section("The questionnaire"):
        _questionnaire(team, team_score)
    with section("The waiver form"):
        _waiver_form(team, team_score)
    with section("The history of answers and waivers"):
        _histories(team)

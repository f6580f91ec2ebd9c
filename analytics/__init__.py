"""Scores (RFM, CLV, P(alive), churn risk), recommendations, reports and charts."""

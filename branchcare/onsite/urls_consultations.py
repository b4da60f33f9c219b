"""Consultation pages under /onsite/consultations/ (names in the ``onsite`` namespace)."""

from django.urls import path

from . import views_consultations as v

urlpatterns = [
    path("", v.consultation_list, name="consultations"),
    path("new/", v.consultation_new, name="consultation_new"),
    path("<int:pk>/", v.consultation_detail, name="consultation_detail"),
    path("<int:pk>/edit/", v.consultation_edit, name="consultation_edit"),
    path("<int:pk>/advice/", v.consultation_advice, name="consultation_advice"),
    path("<int:pk>/advice/cite/", v.consultation_cite_search, name="consultation_cite_search"),
    path("<int:pk>/advice/cite/row/", v.consultation_cite_row, name="consultation_cite_row"),
    path("<int:pk>/transition/", v.consultation_transition, name="consultation_transition"),
    path("<int:pk>/letter.pdf", v.consultation_pdf, name="consultation_pdf"),
]

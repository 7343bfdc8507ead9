"""The forms of the candidate's own page: their shape only; the services check the rules."""

from django import forms
from django.utils.translation import gettext_lazy as _

from candidates.models import Nomination, Offer


class EmailChangeForm(forms.Form):
    email = forms.EmailField(label=_("New email address"), max_length=254)


class PhoneForm(forms.Form):
    phone = forms.CharField(label=_("Phone (with the country code)"), required=False,
                            max_length=Nomination._meta.get_field("phone").max_length)


class WithdrawForm(forms.Form):
    reason = forms.CharField(label=_("Why do you withdraw? (optional)"), max_length=500,
                             required=False, widget=forms.Textarea(attrs={"rows": 3}))


class DeclineForm(forms.Form):
    reason = forms.ChoiceField(label=_("Reason (optional)"), required=False,
                               choices=[("", _("I prefer not to say")),
                                        *Offer.DeclineReason.choices])
    note = forms.CharField(label=_("Note (optional)"), max_length=500, required=False,
                           widget=forms.Textarea(attrs={"rows": 3}))


class LinkRequestForm(forms.Form):
    email = forms.EmailField(label=_("Your email address"), max_length=254)

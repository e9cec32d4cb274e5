"""HTTP handlers."""

from django.http import JsonResponse
from django.views.decorators.http import require_http_methods

from app.services import titles_by


@require_http_methods(["GET", "POST"])
def books_by_author_checked(request):
    """Books by author checked."""
    author = request.headers.get("X-author", "")
    return JsonResponse({"titles": titles_by(author)})

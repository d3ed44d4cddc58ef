"""Card services by ordinance (条例利用): the registry, enrolment at the counter, the service
terminals, and the published use counts.

* ``registry`` — services the council enacted: add, list, deactivate (supervisors);
* ``enrolment`` — a resident with a valid card enrols or withdraws at the counter;
* ``terminal`` — a service terminal authenticates the card and receives only the service's
  identifier for the resident;
* ``figures`` — each service's ordinance and use counts for the transparency page;
* ``inputs`` — the input models the pages and the command line share;
* ``work`` — the registry lookup and the access-log entries every use case writes.
"""

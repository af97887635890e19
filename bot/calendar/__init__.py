"""The calendar: the posts of a time window as each surface shows them (Slack's App Home, Discord's `/calendar`,
the console's text, a web page behind a signed link, a private iCal feed), and each channel's weekly digest."""
